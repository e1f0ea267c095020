using SandboxEhr.Fhir;
using SandboxEhr.Hospitals;

namespace SandboxEhr.Auth;

/// <summary>
/// Which scopes a hospital grants. The sandbox is read-only, so a resource scope is granted as "read and
/// search" in the hospital's own syntax: v1 <c>patient/X.read</c> (epic, payer) or v2 <c>patient/X.rs</c>
/// (cerner). A request in the other syntax is translated (v1 <c>.read</c> and <c>.*</c> mean v2 <c>.rs</c>;
/// a v2 permission string with both r and s means v1 <c>.read</c>); anything else (write-only, r or s alone,
/// granular <c>?param=</c> scopes, user/ and system/ scopes, types the profile does not serve) is left out
/// of the grant.
/// A request left with no resource scope at all is refused with invalid_scope.
/// </summary>
public static class ScopePolicy
{
    public static readonly IReadOnlyList<string> ContextScopes = ["launch/patient", "openid", "fhirUser", "offline_access"];

    public static string ResourceScope(bool v2, string type) => v2 ? $"patient/{type}.rs" : $"patient/{type}.read";

    public static IReadOnlyList<string> Supported(Hospital hospital) =>
    [
        .. ContextScopes,
        ResourceScope(hospital.UsesV2Scopes, "*"),
        .. Profile(hospital).AllTypes.Select(t => ResourceScope(hospital.UsesV2Scopes, t)),
    ];

    /// <summary>The granted scopes (distinct, in request order); empty when the request holds no usable resource scope.</summary>
    public static IReadOnlyList<string> Grant(Hospital hospital, string? requested)
    {
        var granted = new List<string>();
        foreach (var scope in (requested ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var grantedScope = ContextScopes.Contains(scope) ? scope : TranslateResourceScope(hospital, scope);
            if (grantedScope is not null && !granted.Contains(grantedScope))
                granted.Add(grantedScope);
        }
        return granted.Any(IsResourceScope) ? granted : [];
    }

    public static bool IsResourceScope(string scope) => scope.StartsWith("patient/", StringComparison.Ordinal);

    private static VendorProfile Profile(Hospital hospital) => VendorProfile.For(hospital.Info.VendorProfile);

    private static string? TranslateResourceScope(Hospital hospital, string scope)
    {
        if (!IsResourceScope(scope))
            return null;
        var dot = scope.LastIndexOf('.');
        if (dot < 0)
            return null;
        var type = scope["patient/".Length..dot];
        var permission = scope[(dot + 1)..];
        if (type != "*" && !Profile(hospital).Serves(type))
            return null;
        return ReadsAndSearches(permission) ? ResourceScope(hospital.UsesV2Scopes, type) : null;
    }

    private static bool ReadsAndSearches(string permission)
    {
        if (permission is "read" or "*")
            return true;
        // v2: letters of "cruds" in that order, each at most once.
        var order = "cruds";
        var last = -1;
        foreach (var c in permission)
        {
            var at = order.IndexOf(c, last + 1);
            if (at < 0)
                return false;
            last = at;
        }
        return permission.Contains('r') && permission.Contains('s');
    }
}

namespace SandboxEhr.Fhir;

/// <summary>What an access token's scopes allow, in SMART v1 or v2 syntax, for the read-only FHIR API.</summary>
public static class FhirScopes
{
    public enum Interaction
    {
        Read,
        Search,
    }

    /// <summary>
    /// v1 <c>patient/X.read</c> or <c>.*</c> allows read and search; v2 needs <c>r</c> for read and
    /// <c>s</c> for search (<c>patient/X.rs</c>). <c>user/</c> scopes count as well (the patient check
    /// still applies). Granular v2 scopes (<c>patient/Observation.rs?category=…</c>) are not honoured,
    /// so they allow nothing rather than too much.
    /// </summary>
    public static bool Allows(IEnumerable<string> scopes, string type, Interaction interaction)
    {
        foreach (var scope in scopes)
        {
            if (scope.Contains('?'))
                continue;
            var slash = scope.IndexOf('/');
            var dot = scope.LastIndexOf('.');
            if (slash <= 0 || dot <= slash)
                continue;
            var context = scope[..slash];
            if (context is not ("patient" or "user"))
                continue;
            var scopeType = scope[(slash + 1)..dot];
            if (scopeType != "*" && scopeType != type)
                continue;
            var permission = scope[(dot + 1)..];
            if (permission is "read" or "*")
                return true;
            if (IsV2Permission(permission) && permission.Contains(interaction == Interaction.Read ? 'r' : 's'))
                return true;
        }
        return false;
    }

    /// <summary>Letters of "cruds" in that order, each at most once (SMART App Launch 2.x, 3.0.1).</summary>
    private static bool IsV2Permission(string permission)
    {
        if (permission.Length == 0)
            return false;
        var last = -1;
        foreach (var c in permission)
        {
            var at = "cruds".IndexOf(c, last + 1);
            if (at < 0)
                return false;
            last = at;
        }
        return true;
    }
}

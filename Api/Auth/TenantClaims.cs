using System.Security.Claims;

namespace PatientConnect.Api.Auth;

public static class TenantClaims
{
    public const string TenantIdClaim = "tenant_id";
    public const string AdminClaim = "patientconnect_admin";

    /// <summary>The tenant the API key belongs to; only called behind the api-key policy.</summary>
    public static string TenantId(this HttpContext context) =>
        context.User.FindFirstValue(TenantIdClaim)
        ?? throw new InvalidOperationException("No tenant on this request: the endpoint is missing the api-key policy.");
}

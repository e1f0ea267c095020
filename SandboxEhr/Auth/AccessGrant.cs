namespace SandboxEhr.Auth;

/// <summary>An issued access token and what it allows. Scopes are as granted (v1 or v2 syntax).</summary>
public sealed record AccessGrant(
    string Token,
    string HospitalId,
    string PatientId,
    IReadOnlySet<string> Scopes,
    DateTimeOffset ExpiresAt,
    string ClientId);

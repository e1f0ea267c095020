namespace SandboxEhr.Auth;

/// <summary>The FHIR API's view of <see cref="AuthStore"/>: live, unrevoked access tokens of one hospital.</summary>
public sealed class TokenValidator(AuthStore store) : ITokenValidator
{
    public AccessGrant? Validate(string hospitalId, string accessToken) =>
        string.IsNullOrEmpty(accessToken) ? null
        : store.FindAccessToken(accessToken) is { } grant && grant.HospitalId == hospitalId ? grant
        : null;
}

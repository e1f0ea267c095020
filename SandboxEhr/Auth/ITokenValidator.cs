namespace SandboxEhr.Auth;

/// <summary>What the FHIR API asks of the authorization server: is this bearer token live, and for what.</summary>
public interface ITokenValidator
{
    /// <summary>The grant of a live (unexpired, unrevoked) access token of this hospital, else null.</summary>
    AccessGrant? Validate(string hospitalId, string accessToken);
}

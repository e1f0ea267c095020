namespace PatientConnect.Grains.Sources;

/// <summary>How a source's token endpoint authenticates us (the registration's token_endpoint_auth_method).</summary>
public enum ClientAuthMethod
{
    /// <summary>Public client: client_id in the body, PKCE is the only proof.</summary>
    None,
    ClientSecretBasic,
    PrivateKeyJwt,
}

/// <summary>
/// Our client registration at one source. Kept inside the cluster: it never crosses into a
/// SourceView or an Api answer, and <see cref="ToString"/> leaves the secrets out of logs.
/// </summary>
public sealed record SourceRegistration(
    string ClientId,
    ClientAuthMethod AuthMethod,
    string? ClientSecret,
    string? PrivateKeyPem,
    string? KeyId)
{
    public override string ToString() => $"SourceRegistration {{ ClientId = {ClientId}, AuthMethod = {AuthMethod} }}";
}

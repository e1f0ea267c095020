namespace PatientConnect.Grains.Smart;

/// <summary>What SMART discovery tells us about one FHIR server's authorization server.</summary>
public sealed record SmartConfiguration(
    string FhirBaseUrl,
    string? Issuer,
    string AuthorizationEndpoint,
    string TokenEndpoint,
    string? RevocationEndpoint,
    string? JwksUri,
    /// <summary>Null when the server did not say (the /metadata fallback never says).</summary>
    IReadOnlyList<string>? ScopesSupported,
    IReadOnlyList<string> Capabilities);

/// <summary>A successful token response. <see cref="ToString"/> keeps the tokens out of logs.</summary>
public sealed record TokenResponse(
    string AccessToken,
    string? RefreshToken,
    string? IdToken,
    TimeSpan? ExpiresIn,
    string? Scope,
    string? Patient,
    TimeSpan? RefreshExpiresIn = null)
{
    public override string ToString() =>
        $"TokenResponse {{ ExpiresIn = {ExpiresIn}, Scope = {Scope}, Patient = {Patient}, HasRefresh = {RefreshToken is not null}, HasIdToken = {IdToken is not null} }}";
}

/// <summary>
/// A SMART step failed. <see cref="Code"/> is the stable failure code (ehr_unavailable,
/// token_exchange_failed, ehr_error, id_token_invalid); <see cref="Description"/> is safe to show and
/// store: it never carries a token, code, secret or assertion.
/// </summary>
public sealed class SmartException(string code, string description, Exception? inner = null)
    : Exception(description, inner)
{
    public string Code { get; } = code;
    public string Description { get; } = description;
}

/// <summary>What a refresh_token grant came to: new tokens, a refusal of the grant, or a failure worth retrying.</summary>
public sealed record RefreshOutcome(TokenResponse? Token, string? RejectedCode, string? Description)
{
    public static RefreshOutcome Ok(TokenResponse token) => new(token, null, null);

    /// <summary>The grant is dead (e.g. invalid_grant): refreshing again cannot help.</summary>
    public static RefreshOutcome Rejected(string code, string description) => new(null, code, description);

    /// <summary>Network, 5xx, 429, a malformed answer: the grant may still be good.</summary>
    public static RefreshOutcome Transient(string description) => new(null, null, description);

    public bool IsRejected => RejectedCode is not null;
}

namespace SandboxEhr.Hospitals;

/// <summary>
/// Run-time knobs (PUT /hospitals/{id}/settings). Immutable: a change swaps the whole object, so a
/// request or token sees one consistent set, and settings apply to what is issued after the change.
/// </summary>
public sealed record HospitalSettings
{
    public int AccessTokenLifetimeSeconds { get; init; } = 3600;
    /// <summary>
    /// How long an authorization's refresh tokens last from the consent (rotated ones keep the same end);
    /// announced as refresh_token_expires_in. Null: they do not expire.
    /// </summary>
    public int? RefreshTokenLifetimeSeconds { get; init; }
    /// <summary>"ok" or "invalid_grant" (every refresh is refused).</summary>
    public string Refresh { get; init; } = "ok";
    /// <summary>Every Nth FHIR request answers 429 with Retry-After; 0 is off.</summary>
    public int RateLimitEveryN { get; init; }
    /// <summary>Fraction 0..1 of FHIR requests answered 5xx.</summary>
    public double ErrorRate { get; init; }
    public int LatencyMs { get; init; }
    /// <summary>Delay before the revocation endpoint answers (a slow source: a right-to-delete job spans a silo restart).</summary>
    public int RevocationLatencyMs { get; init; }
    /// <summary>Default and maximum page size of searches; null is the profile's own.</summary>
    public int? PageSize { get; init; }
    /// <summary>How long an authorization code can be redeemed (the spec's ten minutes at most; 60 s here).</summary>
    public int AuthorizationCodeLifetimeSeconds { get; init; } = 60;
    /// <summary>
    /// Resource type (or "*" for every type) → HTTP status its searches and reads answer instead of the
    /// data, with an OperationOutcome; a type's own entry wins over "*". Null is off.
    /// </summary>
    public IReadOnlyDictionary<string, int>? FailSearches { get; init; }
    /// <summary>
    /// Where search Bundles' next links point (absolute http(s) URL without a trailing slash) instead of
    /// the hospital's own FHIR base; the path and query after the base stay the same. Null is off.
    /// </summary>
    public string? NextLinkBase { get; init; }

    /// <summary>The status a forced failure gives requests for <paramref name="type"/>, or null when none is set.</summary>
    public int? ForcedFailure(string type) =>
        FailSearches is not { } failures ? null
        : failures.TryGetValue(type, out var own) ? own
        : failures.TryGetValue("*", out var all) ? all
        : null;
}

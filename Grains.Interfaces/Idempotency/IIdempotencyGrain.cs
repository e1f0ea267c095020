namespace PatientConnect.Idempotency;

/// <summary>
/// One Idempotency-Key of one tenant, keyed "{tenant}/{sha256 of the key}". The Api claims it
/// before running the request so two concurrent retries cannot both create.
/// </summary>
[Alias("pc.IIdempotencyGrain")]
public interface IIdempotencyGrain : IGrainWithStringKey
{
    /// <summary>
    /// The stored response when one exists within 24 h (the caller compares its hash); otherwise
    /// claims the key and returns null. A claim already in progress answers with StatusCode 0.
    /// </summary>
    [Alias("TryClaim")] Task<IdempotentResponse?> TryClaim(string requestHash);

    [Alias("Complete"), Retryable] Task Complete(IdempotentResponse response);

    /// <summary>Gives the claim up (the request failed before creating anything).</summary>
    [Alias("Release"), Retryable] Task Release();

    /// <summary>Re-encrypts a stored answer under the newest token key; false when it already was (or there is none).</summary>
    [Alias("Reencrypt"), Retryable] Task<bool> Reencrypt();
}

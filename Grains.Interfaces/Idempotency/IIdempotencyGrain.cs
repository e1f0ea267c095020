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
    /// <remarks>
    /// <paramref name="claimId"/> (one per request) makes the call safe to retry: a claim this request
    /// already holds, whose answer was lost with a silo, is this request's again rather than "in progress".
    /// </remarks>
    /// <remarks>
    /// 3 s, not the client's 10 s: a call sent to a silo that died without answering is only retried while
    /// the retry budget (8 s) lasts, and a claim stored just before the silo died must be found again by this
    /// request's retry; with 10 s the request answered 503 and its own key stayed "in progress" for minutes.
    /// The grain's work is one small storage write.
    /// </remarks>
    [Alias("TryClaim"), Retryable, ResponseTimeout("00:00:03")] Task<IdempotentResponse?> TryClaim(string requestHash, string? claimId = null);

    [Alias("Complete"), Retryable, ResponseTimeout("00:00:03")] Task Complete(IdempotentResponse response);

    /// <summary>Gives the claim up (the request failed before creating anything).</summary>
    [Alias("Release"), Retryable, ResponseTimeout("00:00:03")] Task Release();

    /// <summary>Re-encrypts a stored answer under the newest token key; false when it already was (or there is none).</summary>
    [Alias("Reencrypt"), Retryable] Task<bool> Reencrypt();
}

using PatientConnect.Idempotency;

namespace PatientConnect.Grains.Idempotency;

[GenerateSerializer, Alias("pc.IdempotencyState")]
public sealed class IdempotencyState
{
    [Id(0)] public string? RequestHash { get; set; }
    /// <summary>When the key was claimed; the 24 h window runs from here.</summary>
    [Id(1)] public DateTimeOffset? ClaimedAt { get; set; }
    [Id(2)] public bool Completed { get; set; }
    [Id(3)] public int StatusCode { get; set; }
    /// <summary>Plaintext answer of records written before answers were encrypted; read, never written.</summary>
    [Id(4)] public string? BodyJson { get; set; }
    [Id(5)] public string? Location { get; set; }
    [Id(6)] public DateTimeOffset? CompletedAt { get; set; }
    /// <summary>The stored answer is a refusal (problem details), replayed like a success.</summary>
    [Id(7)] public bool Refusal { get; set; }
    /// <summary>
    /// The stored answer under the TokenProtector: an answer can carry a secret shown once (the
    /// webhook endpoint's whsec_), and a replay must show it again, so it is encrypted, not redacted.
    /// </summary>
    [Id(8)] public string? BodyProtected { get; set; }
    /// <summary>The request holding the claim (see TryClaim): its own retry is not "in progress".</summary>
    [Id(9)] public string? ClaimId { get; set; }
}

/// <summary>
/// One Idempotency-Key of one tenant. The claim is persisted before the request runs, so two retries
/// racing on different Api instances meet here and only one creates.
/// </summary>
public sealed class IdempotencyGrain(
    [PersistentState(IdempotencyGrain.StateName, "store")] IPersistentState<IdempotencyState> state,
    Security.TokenProtector protector,
    TimeProvider timeProvider) : Grain, IIdempotencyGrain
{
    /// <summary>The state's name: the retention job finds these rows by it (the row's graintypestring).</summary>
    public const string StateName = "idempotency";

    /// <summary>The contract's replay window.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);

    /// <summary>
    /// A claim whose request never completed nor released (the Api process died mid-request) is
    /// given up after this long, so the key is not blocked for a whole day.
    /// </summary>
    public static readonly TimeSpan AbandonedClaimAfter = TimeSpan.FromMinutes(2);

    // Bound to this key's grain, so an answer copied into another key's record does not decrypt.
    private string BodyContext => $"idempotency/{this.GetPrimaryKeyString()}";

    public async Task<IdempotentResponse?> TryClaim(string requestHash, string? claimId = null)
    {
        var now = timeProvider.GetUtcNow();
        var s = state.State;
        if (claimId is not null && !s.Completed && s.ClaimId == claimId && s.RequestHash == requestHash) return null;
        if (s.ClaimedAt is { } claimedAt && now - claimedAt < Window)
        {
            if (s.Completed)
            {
                var body = s.BodyProtected is { } sealedBody ? protector.Unprotect(sealedBody, BodyContext) : s.BodyJson ?? "";
                return new IdempotentResponse(s.RequestHash ?? "", s.StatusCode, body, s.Location, s.CompletedAt ?? claimedAt, s.Refusal);
            }
            if (now - claimedAt < AbandonedClaimAfter)
            {
                // StatusCode 0: another request with this key is running right now.
                return new IdempotentResponse(s.RequestHash ?? "", 0, "", null, claimedAt);
            }
        }

        // Unused, expired (older than the window) or abandoned: this request takes the key.
        state.State = new IdempotencyState { RequestHash = requestHash, ClaimedAt = now, ClaimId = claimId };
        await state.WriteStateAsync();
        return null;
    }

    public async Task Complete(IdempotentResponse response)
    {
        var s = state.State;
        // The same answer again (a retried call whose first attempt was stored): already done.
        if (s.Completed && s.RequestHash == response.RequestHash && s.StatusCode == response.StatusCode) return;
        if (s.ClaimedAt is null || s.Completed)
        {
            throw new InvalidOperationException("Complete without an open claim on this idempotency key.");
        }
        s.Completed = true;
        s.StatusCode = response.StatusCode;
        s.BodyJson = null;
        s.BodyProtected = protector.Protect(response.BodyJson, BodyContext);
        s.Location = response.Location;
        s.Refusal = response.Refusal;
        s.CompletedAt = response.CreatedAt == default ? timeProvider.GetUtcNow() : response.CreatedAt;
        await state.WriteStateAsync();
    }

    public async Task<bool> Reencrypt()
    {
        if (state.State.BodyProtected is not { } body || protector.Reprotect(body, BodyContext) is not { } renewed) return false;
        state.State.BodyProtected = renewed;
        await state.WriteStateAsync();
        return true;
    }

    public async Task Release()
    {
        if (state.State.Completed || state.State.ClaimedAt is null) return;
        await state.ClearStateAsync();
        state.State = new IdempotencyState();
    }
}

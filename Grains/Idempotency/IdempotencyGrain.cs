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
    [Id(4)] public string? BodyJson { get; set; }
    [Id(5)] public string? Location { get; set; }
    [Id(6)] public DateTimeOffset? CompletedAt { get; set; }
}

/// <summary>
/// One Idempotency-Key of one tenant. The claim is persisted before the request runs, so two retries
/// racing on different Api instances meet here and only one creates.
/// </summary>
public sealed class IdempotencyGrain(
    [PersistentState(IdempotencyGrain.StateName, "store")] IPersistentState<IdempotencyState> state,
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

    public async Task<IdempotentResponse?> TryClaim(string requestHash)
    {
        var now = timeProvider.GetUtcNow();
        var s = state.State;
        if (s.ClaimedAt is { } claimedAt && now - claimedAt < Window)
        {
            if (s.Completed)
            {
                return new IdempotentResponse(s.RequestHash ?? "", s.StatusCode, s.BodyJson ?? "", s.Location, s.CompletedAt ?? claimedAt);
            }
            if (now - claimedAt < AbandonedClaimAfter)
            {
                // StatusCode 0: another request with this key is running right now.
                return new IdempotentResponse(s.RequestHash ?? "", 0, "", null, claimedAt);
            }
        }

        // Unused, expired (older than the window) or abandoned: this request takes the key.
        state.State = new IdempotencyState { RequestHash = requestHash, ClaimedAt = now };
        await state.WriteStateAsync();
        return null;
    }

    public async Task Complete(IdempotentResponse response)
    {
        var s = state.State;
        if (s.ClaimedAt is null || s.Completed)
        {
            throw new InvalidOperationException("Complete without an open claim on this idempotency key.");
        }
        s.Completed = true;
        s.StatusCode = response.StatusCode;
        s.BodyJson = response.BodyJson;
        s.Location = response.Location;
        s.CompletedAt = response.CreatedAt == default ? timeProvider.GetUtcNow() : response.CreatedAt;
        await state.WriteStateAsync();
    }

    public async Task Release()
    {
        if (state.State.Completed || state.State.ClaimedAt is null) return;
        await state.ClearStateAsync();
        state.State = new IdempotencyState();
    }
}

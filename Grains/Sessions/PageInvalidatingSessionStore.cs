using Orleans.Storage;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// The session store (Postgres or memory) with the list page cache kept coherent in one place: every write
/// of a session row (a create, each state change of a session grain, its erasure) is followed, once
/// committed and before the writer goes on, by the invalidation of its patient's cached pages.
/// Reads and the expiry claims (which only move due_at, not what a list shows) pass through.
/// </summary>
public sealed class PageInvalidatingSessionStore(IGrainStorage storage, ISessionIndex index, SessionPageInvalidation invalidation)
    : IGrainStorage, ISessionIndex
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        storage.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await storage.WriteStateAsync(stateName, grainId, grainState);
        if (grainState.State is PatientSessionState { TenantId: { } tenant } s) await invalidation.AfterCommitAsync(tenant, s.PatientId);
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // Whose row it was, before the clear resets the state.
        var cleared = grainState.State as PatientSessionState;
        var (tenant, patient) = (cleared?.TenantId, cleared?.PatientId);
        await storage.ClearStateAsync(stateName, grainId, grainState);
        if (tenant is not null && patient is not null) await invalidation.AfterCommitAsync(tenant, patient);
    }

    public async Task<PatientSessionState> InsertAsync(string sessionId, PatientSessionState state)
    {
        var stored = await index.InsertAsync(sessionId, state);
        // Also when a retry found its first attempt's row: that attempt may have been lost before its invalidation.
        if (stored.TenantId is { } tenant) await invalidation.AfterCommitAsync(tenant, stored.PatientId);
        return stored;
    }

    public Task<IReadOnlyList<StoredSession>> ListAsync(SessionListFilter filter) => index.ListAsync(filter);

    public Task<IReadOnlyList<ListedSession>> ListJsonAsync(SessionListFilter filter) => index.ListJsonAsync(filter);

    public Task<IReadOnlyList<string>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset retryAt, int limit) =>
        index.ClaimDueAsync(now, retryAt, limit);
}

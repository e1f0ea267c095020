using System.Collections.Concurrent;
using Orleans.Storage;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// <see cref="PostgresSessionStore"/>'s contract in memory, for the in-process test cluster (no database):
/// the same versioned writes, keyset pages and due claims, over serialized copies of the state.
/// </summary>
public sealed class InMemorySessionStore(IGrainStorageSerializer serializer, TimeProvider time) : IGrainStorage, ISessionIndex
{
    private sealed record Row(string TenantId, string PatientId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt,
        SessionStatus Status, DateTimeOffset? DueAt, int Version, BinaryData State, byte[] ListJson);

    private readonly ConcurrentDictionary<string, Row> rows = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (rows.TryGetValue(grainId.Key.ToString()!, out var row))
        {
            grainState.State = serializer.Deserialize<T>(row.State);
            grainState.ETag = row.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var s = grainState.State as PatientSessionState
            ?? throw new NotSupportedException($"The session store holds {nameof(PatientSessionState)} only.");
        var id = grainId.Key.ToString()!;
        lock (gate)
        {
            var current = rows.GetValueOrDefault(id);
            if (current?.Version.ToString(System.Globalization.CultureInfo.InvariantCulture) != grainState.ETag)
            {
                throw new InconsistentStateException($"Session {id} was written by another activation.", current?.Version.ToString() ?? "none", grainState.ETag ?? "none");
            }
            var version = (current?.Version ?? 0) + 1;
            rows[id] = new Row(s.TenantId!, s.PatientId, s.CreatedAt, s.ExpiresAt, s.Status,
                SessionSchedule.DueAt(s, time.GetUtcNow()), version, serializer.Serialize(s), SessionListJson.Tail(id, s));
            grainState.ETag = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task<PatientSessionState> InsertAsync(string sessionId, PatientSessionState state)
    {
        lock (gate)
        {
            if (rows.TryGetValue(sessionId, out var existing))
            {
                return Task.FromResult(serializer.Deserialize<PatientSessionState>(existing.State) ?? new PatientSessionState());
            }
            rows[sessionId] = new Row(state.TenantId!, state.PatientId, state.CreatedAt, state.ExpiresAt, state.Status,
                SessionSchedule.DueAt(state, time.GetUtcNow()), 1, serializer.Serialize(state), SessionListJson.Tail(sessionId, state));
            return Task.FromResult(state);
        }
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        rows.TryRemove(grainId.Key.ToString()!, out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<StoredSession>> ListAsync(SessionListFilter filter) =>
        Task.FromResult<IReadOnlyList<StoredSession>>(Page(filter)
            .Select(r => new StoredSession(r.Key, new SessionKey(r.Value.CreatedAt, r.Key), serializer.Deserialize<PatientSessionState>(r.Value.State) ?? new PatientSessionState()))
            .ToList());

    public Task<IReadOnlyList<ListedSession>> ListJsonAsync(SessionListFilter filter) =>
        Task.FromResult<IReadOnlyList<ListedSession>>(Page(filter)
            .Select(r => new ListedSession(r.Key, new SessionKey(r.Value.CreatedAt, r.Key), r.Value.Status, r.Value.ExpiresAt, r.Value.ListJson))
            .ToList());

    private IEnumerable<KeyValuePair<string, Row>> Page(SessionListFilter filter) => rows
        .Where(r => r.Value.TenantId == filter.TenantId && r.Value.PatientId == filter.PatientId)
        .Where(r => filter.Status is null || SessionViews.EffectiveStatus(r.Value.Status, r.Value.ExpiresAt, filter.Now) == filter.Status)
        .Where(r => filter.After is not { } after || new SessionKey(r.Value.CreatedAt, r.Key).IsAfter(after))
        .OrderByDescending(r => r.Value.CreatedAt).ThenByDescending(r => r.Key, StringComparer.Ordinal)
        .Take(filter.Take);

    public Task<IReadOnlyList<string>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset retryAt, int limit)
    {
        lock (gate)
        {
            var due = rows.Where(r => r.Value.DueAt <= now).OrderBy(r => r.Value.DueAt).Take(limit).Select(r => r.Key).ToList();
            foreach (var id in due) rows[id] = rows[id] with { DueAt = retryAt };
            return Task.FromResult<IReadOnlyList<string>>(due);
        }
    }
}

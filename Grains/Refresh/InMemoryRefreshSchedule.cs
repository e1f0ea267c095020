using System.Collections.Concurrent;

namespace PatientConnect.Grains.Refresh;

/// <summary>The schedule of a silo without Postgres (the in-process test cluster): same claims, no durability.</summary>
public sealed class InMemoryRefreshSchedule : IRefreshSchedule
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _due = new(StringComparer.Ordinal);
    private readonly Lock _claims = new();

    public Task SetAsync(string connectionId, DateTimeOffset dueAt)
    {
        _due[connectionId] = dueAt;
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string connectionId)
    {
        _due.TryRemove(connectionId, out _);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<DueRefresh>> ClaimAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken)
    {
        lock (_claims)
        {
            var due = _due.Where(e => e.Value <= now).OrderBy(e => e.Value).Take(limit)
                .Select(e => new DueRefresh(e.Key, e.Value)).ToList();
            foreach (var claimed in due)
            {
                _due.TryUpdate(claimed.ConnectionId, leaseUntil, claimed.DueAt);
            }
            return Task.FromResult<IReadOnlyList<DueRefresh>>(due);
        }
    }

    /// <summary>The planned time of a connection's next refresh, for tests.</summary>
    public DateTimeOffset? DueAt(string connectionId) => _due.TryGetValue(connectionId, out var due) ? due : null;
}

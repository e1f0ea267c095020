using System.Collections.Concurrent;

namespace PatientConnect.Grains.Refresh;

/// <summary>The schedule of a silo without Postgres (the in-process test cluster): same claims, no durability.</summary>
public sealed class InMemoryRefreshSchedule : IRefreshSchedule
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset Due, DateTimeOffset Early)> _due = new(StringComparer.Ordinal);
    private readonly Lock _claims = new();

    public Task SetAsync(string connectionId, DateTimeOffset dueAt, DateTimeOffset earlyAt)
    {
        _due[connectionId] = (dueAt, earlyAt < dueAt ? earlyAt : dueAt);
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
            var due = _due.Where(e => e.Value.Due <= now).OrderBy(e => e.Value.Due).Take(limit)
                .Concat(_due.Where(e => e.Value.Due > now && e.Value.Early <= now).OrderBy(e => e.Value.Early).Take(limit))
                .Take(limit).ToList();
            foreach (var claimed in due)
            {
                _due.TryUpdate(claimed.Key, (leaseUntil, leaseUntil), claimed.Value);
            }
            return Task.FromResult<IReadOnlyList<DueRefresh>>(due.Select(e => new DueRefresh(e.Key, e.Value.Due)).ToList());
        }
    }

    /// <summary>The planned time of a connection's next refresh, for tests.</summary>
    public DateTimeOffset? DueAt(string connectionId) => _due.TryGetValue(connectionId, out var due) ? due.Due : null;

    /// <summary>From when the connection's next refresh may start early, for tests.</summary>
    public DateTimeOffset? EarlyAt(string connectionId) => _due.TryGetValue(connectionId, out var due) ? due.Early : null;
}

namespace PatientConnect.Grains.Refresh;

/// <summary>A connection whose refresh is due, and when it was planned (the lag is measured against it).</summary>
public sealed record DueRefresh(string ConnectionId, DateTimeOffset DueAt);

/// <summary>
/// The durable plan of token refreshes: at most one due time per connection. Written by the connection
/// (after every change of its tokens), read by the silos' schedulers (<see cref="RefreshScheduler"/>).
/// </summary>
public interface IRefreshSchedule
{
    /// <summary>
    /// Sets (or moves) the connection's next refresh, planned at <paramref name="dueAt"/>; a scheduler with
    /// free slots may start it from <paramref name="earlyAt"/> (not after dueAt). Durable when the task completes.
    /// </summary>
    Task SetAsync(string connectionId, DateTimeOffset dueAt, DateTimeOffset earlyAt);

    /// <summary>The connection no longer refreshes (failed, disconnected, refresh refused).</summary>
    Task RemoveAsync(string connectionId);

    /// <summary>
    /// Up to <paramref name="limit"/> connections due at <paramref name="now"/>, earliest first, then (while
    /// the limit is not reached) connections whose early start has passed, earliest first; each moved to
    /// <paramref name="leaseUntil"/> so no other silo claims it meanwhile; a connection that is never woken
    /// (its silo died) is due again then.
    /// </summary>
    Task<IReadOnlyList<DueRefresh>> ClaimAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken);
}

using PatientConnect.Connections;

namespace PatientConnect.Sync;

/// <summary>
/// The record sync of one connection, keyed by its conn_ id. Runs in the background (never inside
/// a caller's request), survives a silo crash through a reminder, and reports progress to the
/// connection grain with <see cref="IConnectionGrain.ReportSync"/>.
/// </summary>
[Alias("pc.ISyncGrain")]
public interface ISyncGrain : IGrainWithStringKey
{
    /// <summary>Starts a sync run unless one is running (then the call is a no-op and returns its view).</summary>
    [Alias("Start"), Retryable] Task<SyncView> Start(SyncMode mode);

    [ReadOnly, Alias("GetProgress"), Retryable] Task<SyncView> GetProgress();

    /// <summary>
    /// The same view as <see cref="GetProgress"/>, under the one name the Orleans dashboard's Grain
    /// State page calls on any grain (a parameterless GetState): an operator sees a running sync there.
    /// </summary>
    [ReadOnly, Alias("GetState")] Task<SyncView> GetState();

    /// <summary>Stops a running sync (disconnect) and forgets its resume point.</summary>
    [Alias("Cancel")] Task Cancel();
}

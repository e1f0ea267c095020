using System.Text.Json;
using PatientConnect.Grains.Storage;
using PatientConnect.Grains.Telemetry;

namespace PatientConnect.Grains.Sync;

/// <summary>
/// The sync's batched storing. A page's rows go to Postgres with a checkpoint that already counts the
/// page done, in one transaction (group commit: pages stored while a write is in flight go out together
/// in the next one, so concurrent steps share round trips and commits instead of queueing one each).
/// One writer per sync, so checkpoints are committed in the order they were taken. Runs on the grain's
/// scheduler (it is awaited from grain code), so the state it snapshots is never changed under it.
/// </summary>
internal sealed class GroupCommitWriter(IRecordStore store, Func<SyncState> state, string connectionId, SyncTimings timings)
{
    // The checkpoint is the SyncState itself as JSON: written and read only here.
    private static readonly JsonSerializerOptions CheckpointJson = new(JsonSerializerDefaults.General);

    private PendingBatch? _pending;
    private Task? _writer;

    /// <summary>The progress a checkpoint carries, or null when the JSON holds none.</summary>
    public static SyncState? ReadCheckpoint(string json) => JsonSerializer.Deserialize<SyncState>(json, CheckpointJson);

    /// <summary>
    /// Stores a page's rows with a checkpoint and waits until both are committed (the wait is the
    /// backpressure that keeps a fast source from outrunning Postgres). The caller changes the state
    /// for the page (next link, tallies, queued references) before calling, in the same turn: every
    /// change a checkpoint carries is thus in its transaction's rows or in an earlier one.
    /// </summary>
    public async Task StoreAsync(IReadOnlyList<RecordRow> rows, CancellationToken token)
    {
        var started = SyncTimings.Now;
        await Enqueue(rows).WaitAsync(token);
        timings.Stored(started);
        token.ThrowIfCancellationRequested();
    }

    /// <summary>Asks for the state as it is now to be checkpointed (with no rows); does not wait.</summary>
    public void Checkpoint(CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        _ = Enqueue([]);
    }

    /// <summary>
    /// Waits for the batches asked for so far. Failures are not rethrown: every stored page already
    /// waited for its own batch, so what is left are checkpoints, and the grain's final write supersedes them.
    /// </summary>
    public async Task DrainAsync()
    {
        while (_writer is { IsCompleted: false } writer) await writer;
    }

    private Task Enqueue(IReadOnlyList<RecordRow> rows)
    {
        var batch = _pending ??= new PendingBatch();
        batch.Rows.AddRange(rows);
        if (_writer is null || _writer.IsCompleted) _writer = WriteBatchesAsync();
        return batch.Written.Task;
    }

    private async Task WriteBatchesAsync()
    {
        while (_pending is { } batch)
        {
            _pending = null;
            var started = SyncTimings.Now;
            var committed = false;
            try
            {
                // Taken now, in the grain's turn: it covers every page whose rows are in this batch or an earlier one.
                var s = state();
                s.CheckpointSequence++;
                var checkpoint = new SyncCheckpoint(s.RunId!, s.CheckpointSequence, JsonSerializer.Serialize(s, CheckpointJson));
                await store.StoreBatchAsync(new RecordOwner(s.TenantId ?? "", s.PatientId ?? "", connectionId), s.RunId!, batch.Rows, checkpoint);
                committed = true;
                PatientConnectMetrics.RecordsStored(batch.Rows.Count);
                batch.Written.TrySetResult();
            }
            catch (Exception e)
            {
                batch.Written.TrySetException(e);
            }
            timings.Written(started, committed);
        }
    }

    private sealed class PendingBatch
    {
        public List<RecordRow> Rows { get; } = [];
        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

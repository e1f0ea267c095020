using System.Net;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PatientConnect.Connections;
using PatientConnect.Grains.Storage;
using PatientConnect.Grains.Telemetry;
using PatientConnect.Sync;
using Polly.Timeout;

namespace PatientConnect.Grains.Sync;

/// <summary>
/// The record sync of one connection (keyed by its conn_ id). Start only records the run and arms a
/// one-shot interleaving grain timer; the timer runs the pull off every caller's request path, so
/// reads of the sync (and of the connection) never wait for it. Work is a list of steps (searches
/// with their next links, reads, attachments). Each stored page's records go to Postgres in the same
/// transaction as the checkpoint that counts the page done (pc_sync_checkpoints), so a resumed run
/// starts exactly after the last stored page; the grain's own state is written only when a run
/// starts and ends. A reminder re-activates the grain after a silo crash and the loop resumes.
/// </summary>
public sealed partial class SyncGrain(
    [PersistentState("sync", "store")] IPersistentState<SyncState> state,
    FhirClient fhir,
    IRecordStore store,
    IOptions<SyncOptions> options,
    TimeProvider time,
    ILogger<SyncGrain> logger,
    Sources.SourceCatalog catalog) : Grain, ISyncGrain, IRemindable
{
    private const string ReminderName = "sync-resume";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(60);
    private const string FhirJsonAccept = "application/fhir+json, application/json;q=0.9";

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly HashSet<SyncStep> _inFlight = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> _notedOnce = new(StringComparer.Ordinal);
    private SyncOptions Options => options.Value;
    private bool _loopActive;
    private int _loopGeneration;
    private CancellationTokenSource? _cts;
    private IGrainTimer? _timer;
    private AccessLease? _lease;
    private string? _fhirBase;
    private SourceCapabilities? _capabilities;
    private bool _reportFailureLogged;
    private readonly SyncTimings _timings = new();
    private GroupCommitWriter? _writer;

    private string Id => this.GetPrimaryKeyString();
    private SyncState S => state.State;
    private GroupCommitWriter Writer => _writer ??= new GroupCommitWriter(store, () => state.State, Id, _timings);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A run that was going when its silo died picks up here, whoever woke the grain (the
        // reminder, the connection, a progress read), from the last checkpoint stored with records.
        if (S.Status != SyncStatus.Running) return;
        await LoadCheckpointAsync(cancellationToken);
        EnsureLoop();
    }

    /// <summary>The progress stored with the last page's records replaces the state written at the run's start.</summary>
    private async Task LoadCheckpointAsync(CancellationToken cancellationToken)
    {
        var saved = await store.ReadCheckpointAsync(Id, cancellationToken);
        if (saved is null || saved.RunId != S.RunId) return;
        var progress = GroupCommitWriter.ReadCheckpoint(saved.Json);
        if (progress is null || progress.RunId != S.RunId || progress.CheckpointSequence <= S.CheckpointSequence) return;
        state.State = progress;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Stop where we are: the checkpoint and the reminder carry the run to the next activation.
        _cts?.Cancel();
        return Task.CompletedTask;
    }

    public async Task<SyncView> Start(SyncMode mode)
    {
        if (S.Status == SyncStatus.Running)
        {
            EnsureLoop();
            return View();
        }

        var now = time.GetUtcNow();
        var s = S;
        s.RunId = Guid.NewGuid().ToString("N");
        s.Status = SyncStatus.Running;
        s.Mode = mode;
        s.StartedAt = now;
        s.CompletedAt = null;
        s.Error = null;
        s.Planned = false;
        s.PlannedTypes = [];
        s.IncompleteTypes = new(StringComparer.Ordinal);
        s.Steps = [];
        s.KnownReferences = new(StringComparer.Ordinal);
        s.PendingReferences = [];
        s.Fetched = new(StringComparer.Ordinal);
        s.ResourcesFetched = 0;
        s.PagesFetched = 0;
        s.Requests = 0;
        s.LoopStarts = 0;
        s.PagesAtResume = [];
        s.Notes = [];
        s.Counts = null;
        s.CheckpointSequence = 0;
        _timings.Reset();
        // Both durable before the loop starts, neither waiting for the other.
        await Task.WhenAll(WriteAsync(CancellationToken.None), this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod));
        LogStarted(logger, Id, mode);
        EnsureLoop();
        return View();
    }

    public Task<SyncView> GetProgress() => Task.FromResult(View());

    public Task<SyncView> GetState() => Task.FromResult(View());

    public async Task Cancel()
    {
        StopLoop();
        await Writer.DrainAsync();
        var s = S;
        if (s.Status == SyncStatus.Running)
        {
            s.Status = SyncStatus.Failed;
            s.Error = "cancelled: the connection was disconnected";
            s.CompletedAt = time.GetUtcNow();
        }
        s.Steps = [];
        s.PendingReferences = [];
        s.KnownReferences = new(StringComparer.Ordinal);
        s.Planned = false;
        await WriteAsync(CancellationToken.None);
        await UnregisterReminderAsync();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName) return;
        if (S.Status == SyncStatus.Running) EnsureLoop();
        else await UnregisterReminderAsync();
    }

    private void EnsureLoop()
    {
        if (_loopActive) return;
        _loopActive = true;
        var generation = ++_loopGeneration;
        _cts = new CancellationTokenSource();
        var token = _cts.Token;
        _timer?.Dispose();
        // The run continues the trace of whoever started it (the callback that activated the
        // connection, POST .../sync); a timer callback would otherwise start a trace of its own.
        var parent = System.Diagnostics.Activity.Current?.Context ?? default;
        // Interleave: progress reads, Cancel and Start are served while the loop awaits the source.
        // KeepAlive: an idle-looking grain is not collected in the middle of a run.
        _timer = this.RegisterGrainTimer(_ => RunAsync(generation, parent, token),
            new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan) { Interleave = true, KeepAlive = true });
    }

    private void StopLoop()
    {
        _cts?.Cancel();
        _timer?.Dispose();
        _timer = null;
        _loopActive = false;
        _loopGeneration++;
        _inFlight.Clear();
    }

    private async Task RunAsync(int generation, System.Diagnostics.ActivityContext parent, CancellationToken token)
    {
        using var activity = PatientConnectMetrics.ActivitySource.StartActivity(
            "sync " + S.Mode.ToString().ToLowerInvariant(), System.Diagnostics.ActivityKind.Internal, parent);
        activity?.SetTag("patientconnect.connection_id", Id);
        var runId = S.RunId;
        try
        {
            S.LoopStarts++;
            if (S.LoopStarts > 1)
            {
                S.PagesAtResume.Add(S.PagesFetched);
                LogResumed(logger, Id, S.PagesFetched, S.Steps.Count);
            }
            Writer.Checkpoint(token);
            await ReportAsync();

            var lease = await AccessAsync(token);
            if (!S.Planned)
            {
                await PlanAsync(lease, token);
                S.Planned = true;
                Writer.Checkpoint(token);
            }
            await RunStepsAsync(token);
            await FinishAsync(runId, SyncStatus.Completed, null, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Cancelled or deactivating: the checkpoint stands; Cancel wrote its own outcome.
        }
        catch (SyncStoppedException e)
        {
            LogStopped(logger, Id, e.Message);
            await FinishAsync(runId, SyncStatus.Failed, e.Message, token);
        }
        catch (Exception e)
        {
            LogCrashed(logger, e, Id);
            await FinishAsync(runId, SyncStatus.Failed, $"internal_error: {e.GetType().Name}", token);
        }
        finally
        {
            if (generation == _loopGeneration)
            {
                _loopActive = false;
                _timer?.Dispose();
                _timer = null;
                _inFlight.Clear();
            }
        }
    }

    private async Task FinishAsync(string? runId, SyncStatus status, string? error, CancellationToken token)
    {
        if (token.IsCancellationRequested || S.RunId != runId) return;
        await Writer.DrainAsync();
        var s = S;
        if (s.TenantId is not null)
        {
            try
            {
                s.Counts = new Dictionary<string, long>(await store.CountAsync(s.TenantId, Id, token), StringComparer.Ordinal);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogCountFailed(logger, e, Id);
            }
        }
        s.Status = status;
        s.Error = error;
        s.CompletedAt = time.GetUtcNow();
        if (status == SyncStatus.Completed)
        {
            // Only what this run fetched whole moves on; a failed run moves nothing.
            s.FetchedWholeSince = s.IncompleteTypes.Contains("*")
                ? new(StringComparer.Ordinal)
                : s.PlannedTypes.Where(t => !s.IncompleteTypes.Contains(t)).ToDictionary(t => t, _ => s.StartedAt!.Value, StringComparer.Ordinal);
        }
        // The resume point is only worth keeping while the run can go on.
        s.Steps = [];
        s.PendingReferences = [];
        s.KnownReferences = new(StringComparer.Ordinal);
        await WriteAsync(token);
        await UnregisterReminderAsync();
        await ReportAsync();
        try
        {
            // The grain state now holds the outcome; the resume point is of no further use.
            await store.DeleteCheckpointAsync(Id, runId!, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Harmless: a checkpoint of a run that is over is never read again (the run ids differ).
            LogCheckpointCleanupFailed(logger, e, Id);
        }
        PatientConnectMetrics.SyncFinished(PatientConnectMetrics.VendorOf(catalog, _lease?.SourceId),
            status.ToString().ToLowerInvariant(), time.GetUtcNow() - s.StartedAt!.Value, s.ResourcesFetched);
        LogFinished(logger, Id, status, s.ResourcesFetched, s.PagesFetched, s.Requests,
            (long)(time.GetUtcNow() - s.StartedAt!.Value).TotalMilliseconds,
            _timings.StoreMs, _timings.FetchWaitMs, _timings.Batches, _timings.WriteMs);
    }

    private async Task RunStepsAsync(CancellationToken token)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token);
        var running = new List<Task>();
        Exception? fatal = null;
        var concurrency = Math.Max(1, Options.Concurrency);
        while (true)
        {
            token.ThrowIfCancellationRequested();
            while (fatal is null && running.Count < concurrency && NextStep() is { } step)
            {
                _inFlight.Add(step);
                running.Add(RunStepAsync(step, linked.Token));
            }
            if (running.Count == 0)
            {
                if (fatal is null && S.PendingReferences.Count > 0)
                {
                    await QueueReferenceStepsAsync(token);
                    Writer.Checkpoint(token);
                    continue;
                }
                break;
            }
            var done = await Task.WhenAny(running);
            running.Remove(done);
            try
            {
                await done;
            }
            catch (Exception e) when (fatal is null)
            {
                // One step's fatal answer (401 after refresh, a source that stays down) ends the run:
                // the others stop at their next await.
                fatal = e;
                await linked.CancelAsync();
            }
            catch (Exception)
            {
                // A sibling cancelled after the first fatal error.
            }
        }
        if (fatal is not null) ExceptionDispatchInfo.Throw(fatal);
    }

    private SyncStep? NextStep()
    {
        foreach (var step in S.Steps)
        {
            if (!_inFlight.Contains(step)) return step;
        }
        return null;
    }

    private async Task RunStepAsync(SyncStep step, CancellationToken token)
    {
        try
        {
            switch (step.Kind)
            {
                case SyncStepKind.Search:
                    await RunSearchAsync(step, token);
                    break;
                case SyncStepKind.Read:
                    await RunReadAsync(step, token);
                    break;
                case SyncStepKind.Binary:
                    await RunBinaryAsync(step, token);
                    break;
            }
        }
        finally
        {
            _inFlight.Remove(step);
        }
    }

    private void Note(string note)
    {
        if (_notedOnce.Add(note) && !S.Notes.Contains(note) && S.Notes.Count < 50) S.Notes.Add(note);
    }

    /// <summary>Grain state writes (start, end, cancel) one at a time.</summary>
    private async Task WriteAsync(CancellationToken token)
    {
        await _writeLock.WaitAsync(token);
        try
        {
            await state.WriteStateAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Tells the connection the run started (or resumed) or ended: its status and events follow. Progress
    /// in between is not pushed: the connection asks <see cref="GetProgress"/> when someone reads it.
    /// </summary>
    private async Task ReportAsync()
    {
        try
        {
            await GrainFactory.GetGrain<IConnectionGrain>(Id).ReportSync(View());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Progress is advisory; the sync itself goes on.
            if (!_reportFailureLogged)
            {
                _reportFailureLogged = true;
                LogReportFailed(logger, e, Id);
            }
        }
    }

    private async Task UnregisterReminderAsync()
    {
        var reminder = await this.GetReminder(ReminderName);
        if (reminder is not null) await this.UnregisterReminder(reminder);
    }

    private SyncView View()
    {
        var s = S;
        IReadOnlyDictionary<string, long> counts = new SortedDictionary<string, long>(s.Counts ?? s.Fetched, StringComparer.Ordinal);
        return new SyncView(s.Status, s.ResourcesFetched, s.StartedAt, s.CompletedAt, s.Error, counts, s.Notes.ToArray());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sync {ConnectionId} started ({Mode})")]
    private static partial void LogStarted(ILogger logger, string connectionId, SyncMode mode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sync {ConnectionId} resumed after {Pages} pages with {Steps} steps left")]
    private static partial void LogResumed(ILogger logger, string connectionId, int pages, int steps);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sync {ConnectionId} {Status}: {Resources} resources, {Pages} pages, {Requests} requests in {ElapsedMs} ms (summed over steps: storing {StoreMs} ms, waiting for pages {FetchWaitMs} ms; {Batches} batches of records and checkpoint written in {WriteMs} ms)")]
    private static partial void LogFinished(ILogger logger, string connectionId, SyncStatus status, long resources, int pages, int requests,
        long elapsedMs, long storeMs, long fetchWaitMs, int batches, long writeMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sync {ConnectionId} stopped: {Reason}")]
    private static partial void LogStopped(ILogger logger, string connectionId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sync {ConnectionId} crashed")]
    private static partial void LogCrashed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sync {ConnectionId}: deleting the finished run's checkpoint failed")]
    private static partial void LogCheckpointCleanupFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sync {ConnectionId}: counting stored records failed")]
    private static partial void LogCountFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sync {ConnectionId}: progress report to the connection failed (further failures not logged)")]
    private static partial void LogReportFailed(ILogger logger, Exception exception, string connectionId);
}

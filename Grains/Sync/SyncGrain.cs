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
    private static readonly JsonSerializerOptions CheckpointJson = new(JsonSerializerDefaults.General);

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
    private DateTimeOffset _lastReport = DateTimeOffset.MinValue;
    private bool _reportFailureLogged;
    private PendingBatch? _pendingBatch;
    private Task? _batchWriter;
    private long _storeTicks;
    private long _fetchWaitTicks;
    private long _writeTicks;
    private int _batchesWritten;

    private string Id => this.GetPrimaryKeyString();
    private SyncState S => state.State;

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
        var progress = JsonSerializer.Deserialize<SyncState>(saved.Json, CheckpointJson);
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
        _storeTicks = _fetchWaitTicks = _writeTicks = 0;
        _batchesWritten = 0;
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
        await DrainBatchesAsync();
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
            Checkpoint(token);
            await ReportAsync(force: true);

            var lease = await AccessAsync(token);
            if (!S.Planned)
            {
                await PlanAsync(lease, token);
                S.Planned = true;
                Checkpoint(token);
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
        await DrainBatchesAsync();
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
        await ReportAsync(force: true);
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
            (long)System.Diagnostics.Stopwatch.GetElapsedTime(0, _storeTicks).TotalMilliseconds,
            (long)System.Diagnostics.Stopwatch.GetElapsedTime(0, _fetchWaitTicks).TotalMilliseconds,
            _batchesWritten,
            (long)System.Diagnostics.Stopwatch.GetElapsedTime(0, _writeTicks).TotalMilliseconds);
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
                    Checkpoint(token);
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

    private async Task RunSearchAsync(SyncStep step, CancellationToken token)
    {
        if (Resolve(step.Url) is not { } url)
        {
            MarkIncomplete(step);
            Skip(step, $"{step.ResourceType}: a link outside the FHIR base was not followed", token);
            return;
        }
        var fetch = GetAsync(url, FhirJsonAccept, Options.MaxAttachmentBytes * 4, step.ResourceType, token);
        while (true)
        {
            var waitStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            var response = await fetch;
            _fetchWaitTicks += System.Diagnostics.Stopwatch.GetTimestamp() - waitStarted;
            token.ThrowIfCancellationRequested();
            if (!response.Ok)
            {
                Refused(step, response, token);
                return;
            }
            // Parsing is CPU work: off the grain's turn, so other steps' answers are handled meanwhile.
            var fhirBase = _fhirBase!;
            var page = await Task.Run(() => FhirPage.FromBundle(response.Body!, fhirBase), token);
            Uri? next = null;
            if (page.Next is { } link)
            {
                next = Resolve(link);
                if (next is null)
                {
                    Note($"{step.ResourceType}: a next link outside the FHIR base was not followed");
                    MarkIncomplete(step);
                }
            }
            // The next page is on its way while this one is written: the pull is never idle on the database.
            if (next is not null) fetch = GetAsync(next, FhirJsonAccept, Options.MaxAttachmentBytes * 4, step.ResourceType, token);

            step.PagesDone++;
            S.PagesFetched++;
            if (next is null) S.Steps.Remove(step);
            else step.Url = next.AbsoluteUri;
            Absorb(page);
            await StoreAsync(page.Rows, token);
            await ReportAsync(force: false);
            if (next is null) return;
        }
    }

    private async Task RunReadAsync(SyncStep step, CancellationToken token)
    {
        if (Resolve(step.Url) is not { } url)
        {
            // Left by policy (the token stays with its source): asking again would not change it.
            Skip(step, $"{step.ResourceType}: a reference outside the FHIR base was not read", token);
            return;
        }
        var response = await GetAsync(url, FhirJsonAccept, Options.MaxAttachmentBytes * 4, step.ResourceType, token);
        token.ThrowIfCancellationRequested();
        if (!response.Ok)
        {
            Refused(step, response, token);
            return;
        }
        var page = FhirPage.FromResource(response.Body!, _fhirBase!);
        S.PagesFetched++;
        S.Steps.Remove(step);
        Absorb(page);
        await StoreAsync(page.Rows, token);
        await ReportAsync(force: false);
    }

    private async Task RunBinaryAsync(SyncStep step, CancellationToken token)
    {
        if (Resolve(step.Url) is not { } url)
        {
            // Left by policy (the token stays with its source): asking again would not change it.
            Skip(step, "Binary: an attachment outside the FHIR base was not fetched", token);
            return;
        }
        // The attachment's own media type as Accept: EHRs answer it with the document itself.
        var accept = string.IsNullOrWhiteSpace(step.ContentType) ? "*/*" : step.ContentType;
        var response = await GetAsync(url, accept, Options.MaxAttachmentBytes, "Binary", token);
        token.ThrowIfCancellationRequested();
        if (!response.Ok)
        {
            Refused(step, response, token);
            return;
        }
        var id = step.Url.Split('?')[0].Split('/')[^1];
        string json;
        if (response.MediaType is "application/fhir+json" && IsBinaryResource(response.Body!))
        {
            json = Encoding.UTF8.GetString(response.Body!);
        }
        else
        {
            // The attachment's declared type when the source answered with it (it may carry a charset
            // the response header spells differently); otherwise what the source said it sent.
            var declared = step.ContentType;
            var contentType = declared is not null && string.Equals(declared.Split(';')[0].Trim(), response.MediaType, StringComparison.OrdinalIgnoreCase)
                ? declared
                : response.ContentType ?? declared;
            json = FhirPage.BinaryJson(id, contentType, response.Body!);
        }
        S.PagesFetched++;
        S.Steps.Remove(step);
        Count("Binary");
        await StoreAsync([new RecordRow("Binary", id, step.OwnerLastUpdated, json)], token);
        await ReportAsync(force: false);
    }

    private static bool IsBinaryResource(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("resourceType", out var type) && type.ValueEquals("Binary");
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A 400/403/404 (or an oversized answer) on one step: noted and skipped, the sync goes on.</summary>
    private void Refused(SyncStep step, FhirResponse response, CancellationToken token)
    {
        if (response.Status == HttpStatusCode.BadRequest && step is { ExpandByCategoryOn400: true, PagesDone: 0 })
        {
            // Epic-like servers refuse Observation without category: one search per US Core category.
            var index = S.Steps.IndexOf(step);
            var steps = Options.ObservationCategories.Select(c => new SyncStep
            {
                Kind = SyncStepKind.Search,
                ResourceType = step.ResourceType,
                Url = $"{step.Url}&category={Uri.EscapeDataString(c)}",
            });
            S.Steps.InsertRange(index < 0 ? S.Steps.Count : index + 1, steps);
            // Not a miss: the categories cover what the plain search would have returned.
            Skip(step, $"{step.ResourceType}: the source requires a category ({response.Describe()}); searched per category", token);
            return;
        }
        // An attachment over our size cap is left by policy; asking again would not change the answer.
        if (!response.TooLarge) MarkIncomplete(step);
        var what = step.Kind switch
        {
            SyncStepKind.Search => $"{step.ResourceType} search",
            SyncStepKind.Read => $"{step.ResourceType} read",
            _ => "Binary attachment",
        };
        var detail = response.TooLarge ? $"larger than {Options.MaxAttachmentBytes} bytes" : response.Describe();
        Skip(step, $"{what} skipped: {detail}", token);
    }

    /// <summary>This run missed part of what the step stands for: the next run fetches it whole again.</summary>
    private void MarkIncomplete(SyncStep step) =>
        S.IncompleteTypes.Add(step.Kind == SyncStepKind.Search && SearchTypes.Contains(step.ResourceType) ? step.ResourceType : "*");

    private void Skip(SyncStep step, string note, CancellationToken token)
    {
        S.Steps.Remove(step);
        Note(note);
        Checkpoint(token);
    }

    /// <summary>
    /// One GET with the connection's token. 429/5xx/timeouts were already retried by the HttpClient's
    /// Polly pipeline; whatever still fails that way ends the sync. A 401 refreshes once.
    /// </summary>
    private async Task<FhirResponse> GetAsync(Uri url, string accept, long maxBytes, string type, CancellationToken token)
    {
        var lease = await AccessAsync(token);
        var response = await SendAsync(url, lease.AccessToken, accept, maxBytes, type, token);
        if (response.Status == HttpStatusCode.Unauthorized)
        {
            var rejected = lease.AccessToken;
            var refreshed = await FromConnectionAsync(() => GrainFactory.GetGrain<IConnectionGrain>(Id).RefreshAfterRejected(rejected));
            token.ThrowIfCancellationRequested();
            if (refreshed is null)
            {
                throw new SyncStoppedException("unauthorized: the source refused the access token and it could not be refreshed");
            }
            _lease = CheckLease(refreshed);
            response = await SendAsync(url, refreshed.AccessToken, accept, maxBytes, type, token);
            if (response.Status == HttpStatusCode.Unauthorized)
            {
                throw new SyncStoppedException("unauthorized: the source refused a freshly refreshed access token");
            }
        }
        if ((int)response.Status is 429 or >= 500)
        {
            throw new SyncStoppedException($"source_unavailable: {type} answered {response.Describe()} after retries");
        }
        return response;
    }

    private async Task<FhirResponse> SendAsync(Uri url, string token, string accept, long maxBytes, string type, CancellationToken cancellationToken)
    {
        S.Requests++;
        try
        {
            return await fhir.GetAsync(url, token, accept, maxBytes, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested
                                  && e is HttpRequestException or TimeoutRejectedException or TaskCanceledException or Polly.RateLimiting.RateLimiterRejectedException)
        {
            throw new SyncStoppedException($"source_unavailable: {type} request failed after retries ({e.GetType().Name})");
        }
    }

    private async Task<AccessLease> AccessAsync(CancellationToken token)
    {
        if (_lease is { } current && current.ExpiresAt - time.GetUtcNow() > LeaseMargin) return current;
        var lease = await FromConnectionAsync(() => GrainFactory.GetGrain<IConnectionGrain>(Id).GetAccess());
        token.ThrowIfCancellationRequested();
        if (lease is null) throw new SyncStoppedException("connection_inactive: the connection has no usable access (not active)");
        _lease = CheckLease(lease);
        return _lease;
    }

    /// <summary>
    /// The connection answers "not now" (its token endpoint is down, the token lapsed before a refresh
    /// got through) with InvalidOperationException: for the sync that is the source being unavailable,
    /// not an internal error.
    /// </summary>
    private static async Task<AccessLease?> FromConnectionAsync(Func<Task<AccessLease?>> call)
    {
        try
        {
            return await call();
        }
        catch (InvalidOperationException e)
        {
            throw new SyncStoppedException($"source_unavailable: no usable access token ({e.Message})");
        }
    }

    private AccessLease CheckLease(AccessLease lease)
    {
        var fhirBase = lease.FhirBaseUrl.TrimEnd('/');
        if (_fhirBase is not null && _fhirBase != fhirBase)
        {
            throw new SyncStoppedException("source_changed: the connection's FHIR base changed during the sync");
        }
        _fhirBase = fhirBase;
        if (S.TenantId is null)
        {
            S.TenantId = lease.TenantId;
            S.PatientId = lease.PatientId;
        }
        return lease;
    }

    /// <summary>
    /// A URL the token may be sent to: relative ones are put under the FHIR base; absolute ones must
    /// already be under it (same scheme, host, port and path prefix). Anything else is null.
    /// </summary>
    private Uri? Resolve(string reference)
    {
        var fhirBase = _fhirBase!;
        if (!Uri.TryCreate(fhirBase + "/", UriKind.Absolute, out var baseUri)) return null;
        Uri? absolute;
        if (!reference.Contains("://", StringComparison.Ordinal))
        {
            // Relative: under the base, and still under it once ".." segments are resolved.
            if (!Uri.TryCreate($"{fhirBase}/{reference.TrimStart('/')}", UriKind.Absolute, out absolute)) return null;
        }
        else if (!Uri.TryCreate(reference, UriKind.Absolute, out absolute))
        {
            return null;
        }
        var sameOrigin = absolute.Scheme == baseUri.Scheme
                         && string.Equals(absolute.Host, baseUri.Host, StringComparison.OrdinalIgnoreCase)
                         && absolute.Port == baseUri.Port
                         && string.IsNullOrEmpty(absolute.UserInfo);
        return sameOrigin && absolute.AbsolutePath.StartsWith(baseUri.AbsolutePath, StringComparison.Ordinal) ? absolute : null;
    }

    /// <summary>
    /// Stores a page's rows with a checkpoint that already counts the page done, and waits until both
    /// are committed (the wait is the backpressure that keeps a fast source from outrunning Postgres).
    /// The caller changes the state for the page (next link, tallies, queued references) before
    /// calling, in the same turn: every change a checkpoint carries is thus in its transaction's rows
    /// or in an earlier one.
    /// </summary>
    private async Task StoreAsync(IReadOnlyList<RecordRow> rows, CancellationToken token)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await Enqueue(rows).WaitAsync(token);
        _storeTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
        token.ThrowIfCancellationRequested();
    }

    /// <summary>Asks for the state as it is now to be checkpointed (with no rows); does not wait.</summary>
    private void Checkpoint(CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        _ = Enqueue([]);
    }

    /// <summary>
    /// Group commit: pages stored while a write is in flight go out together in the next one, so
    /// concurrent steps share round trips and commits instead of queueing one each. One writer per
    /// sync, so checkpoints are committed in the order they were taken.
    /// </summary>
    private Task Enqueue(IReadOnlyList<RecordRow> rows)
    {
        var batch = _pendingBatch ??= new PendingBatch();
        batch.Rows.AddRange(rows);
        if (_batchWriter is null || _batchWriter.IsCompleted) _batchWriter = WriteBatchesAsync();
        return batch.Written.Task;
    }

    private sealed class PendingBatch
    {
        public List<RecordRow> Rows { get; } = [];
        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private async Task WriteBatchesAsync()
    {
        while (_pendingBatch is { } batch)
        {
            _pendingBatch = null;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                // Taken now, in the grain's turn: it covers every page whose rows are in this batch or an earlier one.
                var s = S;
                s.CheckpointSequence++;
                var checkpoint = new SyncCheckpoint(s.RunId!, s.CheckpointSequence, JsonSerializer.Serialize(s, CheckpointJson));
                await store.StoreBatchAsync(new RecordOwner(s.TenantId ?? "", s.PatientId ?? "", Id), s.RunId!, batch.Rows, checkpoint);
                _batchesWritten++;
                PatientConnectMetrics.RecordsStored(batch.Rows.Count);
                batch.Written.TrySetResult();
            }
            catch (Exception e)
            {
                batch.Written.TrySetException(e);
            }
            _writeTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
        }
    }

    /// <summary>
    /// Waits for the batches asked for so far. Failures are not rethrown: every stored page already
    /// waited for its own batch, so what is left are checkpoints, and the grain's final write supersedes them.
    /// </summary>
    private async Task DrainBatchesAsync()
    {
        while (_batchWriter is { IsCompleted: false } writer) await writer;
    }

    /// <summary>Tallies a stored page and queues what it points at (references, attachments).</summary>
    private void Absorb(FhirPage page)
    {
        var s = S;
        foreach (var row in page.Rows)
        {
            Count(row.ResourceType);
            if (FhirPage.ReferenceTypes.Contains(row.ResourceType)) s.KnownReferences.Add($"{row.ResourceType}/{row.ResourceId}");
        }
        foreach (var reference in page.References)
        {
            if (s.KnownReferences.Add(reference)) s.PendingReferences.Add(reference);
        }
        foreach (var attachment in page.Attachments)
        {
            var relative = AttachmentPath(attachment.Url);
            if (relative is null)
            {
                if (attachment.Url.Contains("://", StringComparison.Ordinal))
                {
                    Note("DocumentReference: attachments outside the FHIR base were not fetched (the token stays with its source)");
                }
                continue;
            }
            if (!s.KnownReferences.Add(relative)) continue;
            if (_scopes is { } scopes && !scopes.CanRead("Binary"))
            {
                Note("Binary: attachments not fetched, the granted scopes do not include Binary");
                continue;
            }
            s.Steps.Add(new SyncStep
            {
                Kind = SyncStepKind.Binary,
                ResourceType = "Binary",
                Url = relative,
                ContentType = attachment.ContentType,
                OwnerLastUpdated = attachment.OwnerLastUpdated,
            });
        }
    }

    /// <summary>"Binary/id" for a relative attachment URL or an absolute one under the FHIR base.</summary>
    private string? AttachmentPath(string url)
    {
        var path = url;
        if (url.Contains("://", StringComparison.Ordinal))
        {
            var prefix = _fhirBase + "/";
            if (!url.StartsWith(prefix, StringComparison.Ordinal)) return null;
            path = url[prefix.Length..];
        }
        var parts = path.Split('/');
        return parts.Length == 2 && parts[0] == "Binary" && FhirPage.IsFhirId(parts[1]) ? path : null;
    }

    private void Count(string type)
    {
        S.Fetched[type] = S.Fetched.GetValueOrDefault(type) + 1;
        S.ResourcesFetched++;
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

    private async Task ReportAsync(bool force)
    {
        var now = time.GetUtcNow();
        if (!force && now - _lastReport < Options.ProgressInterval) return;
        _lastReport = now;
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

/// <summary>The sync cannot go on; the message is the reason shown in the connection's sync error.</summary>
public sealed class SyncStoppedException(string reason) : Exception(reason);

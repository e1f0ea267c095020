using Microsoft.Extensions.Logging;
using PatientConnect.Common;
using PatientConnect.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PatientConnect.Grains.Refresh;
using PatientConnect.Grains.Security;
using PatientConnect.Grains.Smart;
using PatientConnect.Grains.Telemetry;
using PatientConnect.Grains.Sources;
using PatientConnect.Grains.Webhooks;
using PatientConnect.Sync;
using PatientConnect.Webhooks;

namespace PatientConnect.Grains.Connections;

[GenerateSerializer, Alias("pc.ConnectionState")]
public sealed class ConnectionState
{
    [Id(0)] public string? TenantId { get; set; }
    [Id(1)] public string? PatientId { get; set; }
    [Id(2)] public string? SourceId { get; set; }
    [Id(3)] public ConnectionStatus Status { get; set; }
    [Id(4)] public string? FailureCode { get; set; }
    [Id(5)] public string? FailureDescription { get; set; }
    [Id(6)] public List<string> Scopes { get; set; } = [];
    [Id(7)] public string? FhirPatientId { get; set; }
    [Id(8)] public DateTimeOffset? ConnectedAt { get; set; }
    [Id(9)] public DateTimeOffset? LastRefreshedAt { get; set; }
    [Id(10)] public DateTimeOffset? AccessExpiresAt { get; set; }
    /// <summary>AES-256-GCM (see TokenProtector), bound to this connection id; never plaintext.</summary>
    [Id(11)] public string? AccessTokenProtected { get; set; }
    [Id(12)] public string? RefreshTokenProtected { get; set; }
    [Id(13)] public DateTimeOffset CreatedAt { get; set; }
    [Id(14)] public DateTimeOffset UpdatedAt { get; set; }
    [Id(15)] public SyncStatus SyncStatus { get; set; }
    [Id(16)] public long SyncResourcesFetched { get; set; }
    [Id(17)] public DateTimeOffset? SyncStartedAt { get; set; }
    [Id(18)] public DateTimeOffset? SyncCompletedAt { get; set; }
    [Id(19)] public string? SyncError { get; set; }
    /// <summary>Events stored with the change that caused them, until they are in the outbox (see EventLog).</summary>
    [Id(20)] public List<PendingEvent> PendingEvents { get; set; } = [];
    /// <summary>When the current access token was issued: its lifetime sets the refresh margin.</summary>
    [Id(21)] public DateTimeOffset? TokenIssuedAt { get; set; }
    /// <summary>Transient refresh failures in a row (network, 5xx): the retry backoff grows with it.</summary>
    [Id(22)] public int RefreshFailures { get; set; }
    /// <summary>Stored records per resourceType, as the sync last reported them.</summary>
    [Id(23)] public Dictionary<string, long>? SyncCounts { get; set; }
    /// <summary>Searches the last sync skipped without failing (a 400 or 403 on one type, …).</summary>
    [Id(24)] public List<string>? SyncNotes { get; set; }
    /// <summary>When the patient's authorization ends at the source (null: no known limit).</summary>
    [Id(25)] public DateTimeOffset? AuthorizationExpiresAt { get; set; }
    /// <summary>The authorization end connection.expiring was sent for: once per authorization.</summary>
    [Id(26)] public DateTimeOffset? ExpiringSentFor { get; set; }
    /// <summary>The grant last applied by Activate: the same grant handed over again changes nothing.</summary>
    [Id(27)] public string? LastGrantId { get; set; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool Exists => TenantId is not null;
}

/// <summary>
/// One patient's link to one source. Tokens are encrypted before they reach the state. Keeps the access
/// token fresh through <see cref="TokenRefresh"/> (a row in the refresh schedule aimed at expires_at −
/// margin, not a reminder per connection), refreshes on demand for the sync, and records every status
/// change together with its webhook event (see <see cref="EventLog"/>).
/// <para>
/// Refreshes are serialized: the grain is not reentrant, so concurrent triggers (the scheduler's wake,
/// GetAccess, RefreshAfterRejected) queue and each later one finds the token already replaced; the only
/// method that interleaves (ReportSync) never refreshes, and a refresh in flight is shared as one task.
/// Idle, it deactivates after a minute (the collector looks every <see cref="CollectionQuantum"/>): a million
/// connections are rows, not activations, between refreshes, and a burst of new ones holds at most a minute
/// and a half of them in memory (with two minutes, a million registered at 2,300/s peaked at 356,000 live
/// activations and left the silo at 3.9 GB).
/// </para>
/// </summary>
[CollectionAgeLimit(Minutes = 1)]
public sealed class ConnectionGrain(
    [PersistentState("connection", "store")] IPersistentState<ConnectionState> state,
    TokenProtector protector,
    SourceCatalog catalog,
    SmartClient smart,
    IEventOutbox outbox,
    RefreshServices refreshServices,
    IOptions<AuthorizationOptions> authorizationOptions,
    IServiceProvider services,
    TimeProvider timeProvider,
    ILogger<ConnectionGrain> logger) : Grain, IConnectionGrain, IRemindable, IRefreshOwner
{
    /// <summary>The per-connection refresh reminder of earlier versions: moved to the schedule at its next tick.</summary>
    public const string RefreshReminder = "refresh";
    public const string ExpiringReminder = "expiring";

    /// <summary>How often the silo's activation collector runs: below this grain's age limit, which Orleans requires.</summary>
    public static readonly TimeSpan CollectionQuantum = TimeSpan.FromSeconds(30);

    // ReportSync interleaves with every other call; all state changes and writes go through this gate.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private TokenRefresh? _refresh;

    private string Id => this.GetPrimaryKeyString();
    private ConnectionState S => state.State;
    private RefreshOptions R => refreshServices.Options;
    private TokenRefresh Refresh => _refresh ??= new TokenRefresh(this, refreshServices, logger);

    string IRefreshOwner.ConnectionId => Id;
    ConnectionState IRefreshOwner.State => S;
    Task IRefreshOwner.Change(Action<ConnectionState> mutate, params string[] eventTypes) => Change(mutate, eventTypes);
    Task IRefreshOwner.RefreshEnded() => StopReminders();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Events stored with a change whose outbox insert did not happen (a crash in between) go out now.
        await EventLog.FlushAsync(S.PendingEvents, outbox, logger, Id);
        // After a key rotation, tokens still under an older key move to the newest on first use.
        await ReencryptTokens();
    }

    public async Task<bool> ReencryptTokens()
    {
        await _gate.WaitAsync();
        try
        {
            string? access, refresh;
            try
            {
                access = S.AccessTokenProtected is { } a ? protector.Reprotect(a, TokenContext("access")) : null;
                refresh = S.RefreshTokenProtected is { } r ? protector.Reprotect(r, TokenContext("refresh")) : null;
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                // A key that is no longer configured: leave the value as it is; using it fails the same way.
                logger.LogWarning("Connection {ConnectionId}: tokens could not be re-encrypted: {Reason}", Id, e.Message);
                return false;
            }
            if (access is null && refresh is null) return false;
            if (access is not null) S.AccessTokenProtected = access;
            if (refresh is not null) S.RefreshTokenProtected = refresh;
            await state.WriteStateAsync();
            logger.LogInformation("Connection {ConnectionId}: tokens re-encrypted under key {KeyId}", Id, protector.CurrentKeyId);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<ConnectionView> Activate(ConnectionBinding binding, TokenGrant grant)
    {
        Bind(binding);
        // A session finishing its callback after a crash or a retried call hands the same grant again:
        // applying it twice would send a second connection.active and restart the sync.
        if (grant.GrantId is not null && grant.GrantId == S.LastGrantId) return View();
        var firstTime = S.ConnectedAt is null;
        // Only a connection whose authorization end was known can have a warning reminder to replace or stop.
        var mayHaveWarning = S.AuthorizationExpiresAt is not null;
        await Change(s =>
        {
            var now = timeProvider.GetUtcNow();
            // A reconnect lands here too: same id, new tokens, back to active, old failure cleared.
            s.Status = ConnectionStatus.Active;
            s.FailureCode = null;
            s.FailureDescription = null;
            s.Scopes = [.. grant.Scopes];
            s.FhirPatientId = grant.FhirPatientId;
            s.ConnectedAt = now;
            s.TokenIssuedAt = now;
            s.RefreshFailures = 0;
            s.AccessExpiresAt = grant.AccessExpiresAt;
            s.AccessTokenProtected = protector.Protect(grant.AccessToken, TokenContext("access"));
            s.RefreshTokenProtected = grant.RefreshToken is null ? null : protector.Protect(grant.RefreshToken, TokenContext("refresh"));
            s.LastGrantId = grant.GrantId;
            // A new consent is a new authorization: its own end, its own warning.
            s.AuthorizationExpiresAt = grant.RefreshExpiresAt ?? AuthorizationEnd(now);
            s.ExpiringSentFor = null;
        }, WebhookEventTypes.ConnectionActive);
        // Debug: one line per connection made is noise at thousands a second; the outbox has connection.active.
        logger.LogDebug("Connection {ConnectionId} active with {ScopeCount} scopes", Id, S.Scopes.Count);
        PatientConnectMetrics.ConnectionEntered("active");
        await Refresh.Schedule();
        if (mayHaveWarning || S.AuthorizationExpiresAt is not null) await ScheduleExpiringWarning();
        if (R.StartSyncOnActivate) StartSync(firstTime ? SyncMode.Full : SyncMode.Incremental);
        return View();
    }

    public async Task<ConnectionView> Fail(ConnectionBinding binding, string failureCode, string failureDescription)
    {
        Bind(binding);
        // The same failure reported again (a recovering callback) is already recorded: no second event.
        if (S.Status == ConnectionStatus.Failed && S.FailureCode == failureCode && S.FailureDescription == failureDescription) return View();
        await Change(s =>
        {
            s.Status = ConnectionStatus.Failed;
            s.FailureCode = failureCode;
            s.FailureDescription = failureDescription;
            // A failed connection moves no records; keeping tokens it will not use only widens exposure.
            ForgetTokens(s);
        }, WebhookEventTypes.ConnectionFailed);
        logger.LogInformation("Connection {ConnectionId} failed: {FailureCode}", Id, failureCode);
        PatientConnectMetrics.ConnectionEntered("failed");
        await StopReminder();
        return View();
    }

    public async Task<ConnectionView?> Get(string tenantId)
    {
        if (!S.Exists || S.TenantId != tenantId) return null;
        var view = View();
        if (S.SyncStatus != SyncStatus.Running) return view;
        // While a run goes on its progress lives in the sync grain (stored with every page's records),
        // asked for here when someone reads the connection instead of being copied into this state.
        try
        {
            var live = await GrainFactory.GetGrain<ISyncGrain>(Id).GetProgress().WaitAsync(LiveProgressTimeout);
            return live.Status == SyncStatus.Running && live.StartedAt == S.SyncStartedAt ? view with { Sync = live } : view;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The stored view (as of the run's start) is still true, only less fresh.
            logger.LogDebug("Connection {ConnectionId}: live sync progress unavailable ({Kind})", Id, e.GetType().Name);
            return view;
        }
    }

    // Well inside Get's 3 s response timeout: a slow sync grain costs freshness, not the read.
    private static readonly TimeSpan LiveProgressTimeout = TimeSpan.FromSeconds(1);

    public async Task<AccessLease?> GetAccess()
    {
        if (!S.Exists || S.Status != ConnectionStatus.Active || S.AccessTokenProtected is null) return null;
        var now = timeProvider.GetUtcNow();
        if (now >= Refresh.DueAt())
        {
            if (S.RefreshTokenProtected is not null)
            {
                await Refresh.RefreshShared();
            }
            else if (now >= S.AccessExpiresAt)
            {
                await Refresh.MarkNoRefreshToken();
            }
        }
        return CurrentLease(throwWhenLapsed: true);
    }

    public async Task<AccessLease?> RefreshAfterRejected(string rejectedAccessToken)
    {
        if (!S.Exists || S.Status != ConnectionStatus.Active || S.AccessTokenProtected is null) return null;
        if (!string.Equals(AccessToken(), rejectedAccessToken, StringComparison.Ordinal))
        {
            // Another trigger already replaced the rejected token: one refresh serves them all.
            return CurrentLease(throwWhenLapsed: true);
        }
        if (S.RefreshTokenProtected is null)
        {
            await Refresh.MarkNoRefreshToken();
            return null;
        }
        var result = await Refresh.RefreshShared();
        return result switch
        {
            RefreshResult.Refreshed => CurrentLease(throwWhenLapsed: true),
            RefreshResult.Rejected => null,
            _ => throw new InvalidOperationException($"Connection {Id}: the source's token endpoint is unavailable; retry later."),
        };
    }

    public async Task<ConnectionView?> Disconnect(string tenantId, bool deleteRecords)
    {
        if (!S.Exists || S.TenantId != tenantId) return null;
        if (S.Status != ConnectionStatus.Disconnected)
        {
            var revocationError = await Revoke();
            await Change(s =>
            {
                s.Status = ConnectionStatus.Disconnected;
                // Failure to revoke is recorded, not fatal: the tokens are forgotten here either way.
                s.FailureCode = revocationError is null ? null : "revocation_failed";
                s.FailureDescription = revocationError;
                ForgetTokens(s);
            }, WebhookEventTypes.ConnectionDisconnected);
            logger.LogInformation("Connection {ConnectionId} disconnected{Revocation}", Id, revocationError is null ? "" : " (revocation failed)");
            PatientConnectMetrics.ConnectionEntered("disconnected");
            await StopReminder();
            try
            {
                await GrainFactory.GetGrain<ISyncGrain>(Id).Cancel();
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Connection {ConnectionId}: cancelling the sync failed", Id);
            }
        }
        if (deleteRecords) await DeleteRecords();
        return View();
    }

    public Task<Outcome<ConnectionView>> RequestSync(string tenantId)
    {
        if (!S.Exists || S.TenantId != tenantId)
        {
            return Task.FromResult(Outcome<ConnectionView>.Refused(RefusalKind.NotFound, "not_found", "Not found.", $"No connection with id '{Id}'."));
        }
        if (S.Status != ConnectionStatus.Active)
        {
            // Only an active connection holds a token the source accepts; the others wait for a reconnect.
            return Task.FromResult(Outcome<ConnectionView>.Refused(RefusalKind.Conflict, "connection_not_active", "The connection is not active.",
                $"Connection '{Id}' is {EventJson.Wire(S.Status)}; only an active connection syncs."));
        }
        StartSync(S.SyncCompletedAt is null ? SyncMode.Full : SyncMode.Incremental);
        return Task.FromResult(Outcome<ConnectionView>.Ok(View()));
    }

    public async Task ReportSync(SyncView sync)
    {
        if (!S.Exists) return;
        var previous = (S.SyncStatus, S.SyncCompletedAt);
        var type = sync.Status switch
        {
            SyncStatus.Completed when previous != (SyncStatus.Completed, sync.CompletedAt) => WebhookEventTypes.SyncCompleted,
            SyncStatus.Failed when previous != (SyncStatus.Failed, sync.CompletedAt) => WebhookEventTypes.SyncFailed,
            // A resumed run (silo restart) reports Running again with the same start: one event per run.
            SyncStatus.Running when (S.SyncStatus, S.SyncStartedAt) != (SyncStatus.Running, sync.StartedAt) => WebhookEventTypes.SyncStarted,
            _ => null,
        };
        await Change(s =>
        {
            s.SyncStatus = sync.Status;
            s.SyncResourcesFetched = sync.ResourcesFetched;
            s.SyncStartedAt = sync.StartedAt;
            s.SyncCompletedAt = sync.CompletedAt;
            s.SyncError = sync.Error;
            s.SyncCounts = sync.Counts is null ? null : new Dictionary<string, long>(sync.Counts, StringComparer.Ordinal);
            s.SyncNotes = sync.Notes is null ? null : [.. sync.Notes];
        }, type is null ? [] : [type]);
    }

    public async Task RefreshDue()
    {
        // No token work yet in this activation: it exists for this wake only (no sync asking for access),
        // so it goes as soon as the refresh is stored instead of idling for the collection age.
        var activatedForThisWake = _refresh is null;
        await EventLog.FlushAsync(S.PendingEvents, outbox, logger, Id);
        await Refresh.OnDue();
        if (activatedForThisWake) this.DeactivateOnIdle();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == ExpiringReminder)
        {
            await WarnExpiring();
            return;
        }
        if (reminderName != RefreshReminder) return;
        // A connection activated by an earlier version: its refresh moves to the schedule (OnDue writes the
        // row, or removes it when the connection is no longer active) and the reminder goes.
        await EventLog.FlushAsync(S.PendingEvents, outbox, logger, Id);
        await Refresh.OnDue();
        await StopReminder(RefreshReminder);
    }

    /// <summary>RFC 7009 at the source, refresh token first (it ends the whole grant where supported). Null when fine.</summary>
    private async Task<string?> Revoke()
    {
        if (S.AccessTokenProtected is null && S.RefreshTokenProtected is null) return null;
        var source = catalog.Find(S.SourceId);
        if (source?.Registration is not { } registration) return "The source is no longer configured; its tokens could not be revoked.";
        try
        {
            var config = await smart.DiscoverAsync(source.View.FhirBaseUrl);
            if (config.RevocationEndpoint is not { } endpoint) return null;
            var errors = new List<string>();
            if (S.RefreshTokenProtected is { } refresh
                && await smart.RevokeAsync(endpoint, registration, protector.Unprotect(refresh, TokenContext("refresh")), "refresh_token") is { } e1)
            {
                errors.Add(e1);
            }
            if (S.AccessTokenProtected is { } access
                && await smart.RevokeAsync(endpoint, registration, protector.Unprotect(access, TokenContext("access")), "access_token") is { } e2)
            {
                errors.Add(e2);
            }
            return errors.Count == 0 ? null : string.Join(" ", errors.Distinct());
        }
        catch (SmartException e)
        {
            return e.Description;
        }
    }

    private async Task DeleteRecords()
    {
        // Resolved here, not injected: the record store needs Postgres, and connections live in hosts
        // (the in-process test cluster) that have none and never delete records.
        var deleted = await services.GetRequiredService<Storage.IRecordStore>().DeleteConnectionAsync(S.TenantId!, Id);
        logger.LogInformation("Connection {ConnectionId}: {Count} records deleted", Id, deleted);
    }

    /// <summary>Changes the state, adds the events (of the changed connection) and writes once, then flushes the events.</summary>
    private async Task Change(Action<ConnectionState> mutate, params string[] eventTypes)
    {
        await _gate.WaitAsync();
        try
        {
            var now = timeProvider.GetUtcNow();
            // The history's status_before: none for a connection's first change.
            var statusBefore = S.UpdatedAt == default ? null : EventJson.Wire(S.Status);
            var syncBefore = EventJson.Wire(S.SyncStatus);
            mutate(S);
            S.UpdatedAt = now;
            if (eventTypes.Length > 0)
            {
                var view = View();
                foreach (var type in eventTypes)
                {
                    var before = type.StartsWith("records.sync.", StringComparison.Ordinal) ? syncBefore : statusBefore;
                    S.PendingEvents.Add(EventJson.ForConnection(type, S.TenantId!, view, now, before));
                }
            }
            await state.WriteStateAsync();
            await EventLog.FlushAsync(S.PendingEvents, outbox, logger, Id);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Without an end announced by the token response (refresh_token_expires_in): the vendor's configured
    /// maximum from the consent, else unknown (null).
    /// </summary>
    private DateTimeOffset? AuthorizationEnd(DateTimeOffset consentedAt)
    {
        var vendor = catalog.Find(S.SourceId)?.View.Vendor;
        return vendor is not null && authorizationOptions.Value.VendorMaximum.TryGetValue(vendor, out var maximum) && maximum > TimeSpan.Zero
            ? consentedAt + maximum
            : null;
    }

    private async Task ScheduleExpiringWarning()
    {
        if (S.Status != ConnectionStatus.Active || S.AuthorizationExpiresAt is not { } expires || S.ExpiringSentFor == expires)
        {
            await StopReminder(ExpiringReminder);
            return;
        }
        var due = expires - authorizationOptions.Value.WarnBefore - timeProvider.GetUtcNow();
        await this.RegisterOrUpdateReminder(ExpiringReminder, due < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : due, R.ReminderPeriod);
    }

    /// <summary>connection.expiring, once per authorization, when its warning window has begun.</summary>
    private async Task WarnExpiring()
    {
        await EventLog.FlushAsync(S.PendingEvents, outbox, logger, Id);
        if (S.Status == ConnectionStatus.Active && S.AuthorizationExpiresAt is { } expires && S.ExpiringSentFor != expires)
        {
            if (timeProvider.GetUtcNow() < expires - authorizationOptions.Value.WarnBefore)
            {
                // Fired early (clock skew between silos, or the fallback period): aim again.
                await ScheduleExpiringWarning();
                return;
            }
            await Change(s => s.ExpiringSentFor = expires, WebhookEventTypes.ConnectionExpiring);
            logger.LogInformation("Connection {ConnectionId}: authorization ends {ExpiresAt:O}; connection.expiring sent", Id, expires);
        }
        await StopReminder(ExpiringReminder);
    }

    /// <summary>The connection stopped (failed, disconnected, refresh_failed): nothing of it is scheduled any more.</summary>
    private async Task StopReminder()
    {
        await Refresh.Unschedule();
        await StopReminders();
    }

    private async Task StopReminders()
    {
        await StopReminder(ExpiringReminder);
        await StopReminder(RefreshReminder);
    }

    private async Task StopReminder(string name)
    {
        try
        {
            if (await this.GetReminder(name) is { } reminder) await this.UnregisterReminder(reminder);
        }
        catch (Exception e)
        {
            // A leftover reminder finds the connection inactive on its next tick and removes itself.
            logger.LogWarning(e, "Connection {ConnectionId}: removing the {Reminder} reminder failed", Id, name);
        }
    }

    private void StartSync(SyncMode mode)
    {
        // Not awaited: the sync grain calls back (GetAccess), and this grain is not reentrant. Its absence
        // or failure must not break the connection; it is logged.
        var sync = GrainFactory.GetGrain<ISyncGrain>(Id);
        _ = StartSyncCore(sync, mode);
    }

    private async Task StartSyncCore(ISyncGrain sync, SyncMode mode)
    {
        try
        {
            await sync.Start(mode);
        }
        catch (Exception e)
        {
            logger.LogWarning("Connection {ConnectionId}: starting the {Mode} sync failed: {Kind}: {Message}", Id, mode, e.GetType().Name, e.Message);
        }
    }

    private AccessLease? CurrentLease(bool throwWhenLapsed)
    {
        if (S.Status != ConnectionStatus.Active || S.AccessTokenProtected is null) return null;
        if (throwWhenLapsed && timeProvider.GetUtcNow() >= S.AccessExpiresAt)
        {
            throw new InvalidOperationException($"Connection {Id}: the access token lapsed and the refresh is being retried; retry later.");
        }
        var fhirBase = catalog.Find(S.SourceId)?.View.FhirBaseUrl
            ?? throw new InvalidOperationException($"Connection {Id}: the source is no longer in the directory.");
        return new AccessLease(AccessToken(), S.AccessExpiresAt!.Value, fhirBase, S.FhirPatientId ?? "", S.Scopes.ToArray(),
            S.TenantId!, S.PatientId!, S.SourceId!);
    }

    private string AccessToken() => protector.Unprotect(S.AccessTokenProtected!, TokenContext("access"));

    internal static void ForgetTokens(ConnectionState s)
    {
        s.AccessTokenProtected = null;
        s.RefreshTokenProtected = null;
        s.AccessExpiresAt = null;
        s.RefreshFailures = 0;
    }

    /// <summary>The owner is fixed at first use; a different owner means a caller bug, never a takeover.</summary>
    private void Bind(ConnectionBinding binding)
    {
        var s = state.State;
        if (!s.Exists)
        {
            s.TenantId = binding.TenantId;
            s.PatientId = binding.PatientId;
            s.SourceId = binding.SourceId;
            s.CreatedAt = timeProvider.GetUtcNow();
            s.SyncStatus = SyncStatus.Pending;
            return;
        }
        if (s.TenantId != binding.TenantId || s.PatientId != binding.PatientId || s.SourceId != binding.SourceId)
        {
            throw new InvalidOperationException($"Connection {Id} belongs to another patient or source.");
        }
    }

    private string TokenContext(string field) => TokenContext(Id, field);

    /// <summary>What a token's encryption is bound to: this connection and the token's field.</summary>
    internal static string TokenContext(string connectionId, string field) => $"{connectionId}/{field}";

    private ConnectionView View()
    {
        var s = state.State;
        return new ConnectionView(
            Id,
            s.PatientId!,
            s.SourceId!,
            s.Status,
            s.FailureCode,
            s.FailureDescription,
            s.Scopes.ToArray(),
            s.FhirPatientId,
            s.ConnectedAt,
            s.LastRefreshedAt,
            s.AccessExpiresAt,
            new SyncView(s.SyncStatus, s.SyncResourcesFetched, s.SyncStartedAt, s.SyncCompletedAt, s.SyncError, s.SyncCounts, s.SyncNotes),
            s.CreatedAt,
            s.UpdatedAt,
            s.AuthorizationExpiresAt);
    }

    /// <summary>
    /// Right to delete: revoke at the source (a failure is reported, not fatal: the tokens are deleted
    /// either way), stop the reminders and the sync, and delete the state. No connection.disconnected is
    /// stored: the patient's events are being erased, and the job's own event says what happened.
    /// </summary>
    public async Task<PatientConnect.Erasure.ConnectionErasure> Erase(string tenantId)
    {
        if (!S.Exists || S.TenantId != tenantId) return new PatientConnect.Erasure.ConnectionErasure(false, false, null);
        var hadTokens = S.AccessTokenProtected is not null || S.RefreshTokenProtected is not null;
        var revocationError = await Revoke();
        await StopReminder();
        // Cancel waits for a running sync to stop, so no page is stored after the job deletes the records.
        await GrainFactory.GetGrain<ISyncGrain>(Id).Cancel();
        await _gate.WaitAsync();
        try
        {
            await state.ClearStateAsync();
            state.State = new ConnectionState();
        }
        finally
        {
            _gate.Release();
        }
        logger.LogInformation("Connection {ConnectionId} erased{Revocation}", Id, revocationError is null ? "" : " (revocation failed)");
        DeactivateOnIdle();
        return new PatientConnect.Erasure.ConnectionErasure(true, hadTokens && revocationError is null, revocationError);
    }
}

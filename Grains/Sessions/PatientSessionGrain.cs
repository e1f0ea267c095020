using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PatientConnect.Connections;
using PatientConnect.Grains.Smart;
using PatientConnect.Grains.Sources;
using PatientConnect.Patients;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// The OAuth transaction of an open session: what the callback needs to prove the state and finish the
/// code exchange. Replaced by every BeginConnect, dropped when the session ends.
/// </summary>
[GenerateSerializer, Alias("pc.OAuthTransactionState")]
public sealed class OAuthTransactionState
{
    /// <summary>The random part of the OAuth state (the part after "ps_….").</summary>
    [Id(0)] public string StateNonce { get; set; } = "";
    /// <summary>
    /// PKCE verifier of transactions written before it was encrypted; new ones use
    /// <see cref="CodeVerifierProtected"/>. Read once, for a callback in flight across an upgrade.
    /// </summary>
    [Id(1)] public string CodeVerifier { get; set; } = "";
    [Id(2)] public string SourceId { get; set; } = "";
    [Id(3)] public string RedirectUri { get; set; } = "";
    [Id(4)] public string TokenEndpoint { get; set; } = "";
    [Id(5)] public string FhirBaseUrl { get; set; } = "";
    [Id(6)] public string? Issuer { get; set; }
    [Id(7)] public string? JwksUri { get; set; }
    [Id(8)] public string ClientId { get; set; } = "";
    [Id(9)] public List<string> RequestedScopes { get; set; } = [];
    /// <summary>Set, and persisted, before the code exchange: a state works for one callback only.</summary>
    [Id(10)] public bool Used { get; set; }
    [Id(11)] public DateTimeOffset StartedAt { get; set; }
    /// <summary>Hash of the callback (code or error) that used the state: only that same callback may run again.</summary>
    [Id(12)] public string? CallbackHash { get; set; }
    /// <summary>Reserved before the code is spent, so a callback that runs again uses the same connection.</summary>
    [Id(13)] public string? ConnectionId { get; set; }
    /// <summary>
    /// The PKCE verifier under the token key: with the one-time code it is what the token endpoint
    /// asks for, so it is not kept in clear even for the minutes a transaction lives.
    /// </summary>
    [Id(14)] public string? CodeVerifierProtected { get; set; }
}

/// <summary>
/// What the callback still has to do after its outcome is recorded: hand the grant to the connection
/// (or record its failure there). Stored with the outcome in one write, so a silo lost in between
/// leaves work that a retried or reloaded callback, the session's reminder or its next activation
/// finishes; dropped once done. Tokens are encrypted like the connection's own.
/// </summary>
[GenerateSerializer, Alias("pc.CallbackFollowUp")]
public sealed class CallbackFollowUp
{
    [Id(0)] public string ConnectionId { get; set; } = "";
    [Id(1)] public string SourceId { get; set; } = "";
    [Id(2)] public string? AccessTokenProtected { get; set; }
    [Id(3)] public string? RefreshTokenProtected { get; set; }
    [Id(4)] public DateTimeOffset AccessExpiresAt { get; set; }
    [Id(5)] public List<string> Scopes { get; set; } = [];
    [Id(6)] public string? FhirPatientId { get; set; }
    [Id(7)] public string? GrantId { get; set; }
    [Id(8)] public string? FailureCode { get; set; }
    [Id(9)] public string? FailureDescription { get; set; }
    [Id(10)] public DateTimeOffset? RefreshExpiresAt { get; set; }
}

[GenerateSerializer, Alias("pc.PatientSessionState")]
public sealed class PatientSessionState
{
    [Id(0)] public string? TenantId { get; set; }
    [Id(1)] public string PatientId { get; set; } = "";
    [Id(2)] public string ReturnUrl { get; set; } = "";
    [Id(3)] public string? SourceId { get; set; }
    [Id(4)] public List<string> RecommendedSourceIds { get; set; } = [];
    [Id(5)] public string MetadataJson { get; set; } = "{}";
    [Id(6)] public DateTimeOffset CreatedAt { get; set; }
    [Id(7)] public DateTimeOffset ExpiresAt { get; set; }
    [Id(8)] public DateTimeOffset? CompletedAt { get; set; }
    [Id(9)] public SessionStatus Status { get; set; }
    [Id(10)] public string? Error { get; set; }
    [Id(11)] public string? ErrorDescription { get; set; }
    [Id(12)] public string? ConnectionId { get; set; }
    [Id(13)] public ConnectionStatus? ConnectionStatus { get; set; }
    [Id(14)] public OAuthTransactionState? Transaction { get; set; }
    /// <summary>The source the patient chose last (direct mode: always <see cref="SourceId"/>).</summary>
    [Id(15)] public string? ChosenSourceId { get; set; }
    /// <summary>Webhook events stored with the change that caused them, until they are in the outbox (see EventLog).</summary>
    [Id(16)] public List<Webhooks.PendingEvent> PendingEvents { get; set; } = [];
    /// <summary>The state and callback that finished the session: the same callback again shows its outcome.</summary>
    [Id(17)] public string? CompletedStateNonce { get; set; }
    [Id(18)] public string? CompletedCallbackHash { get; set; }
    [Id(19)] public CallbackFollowUp? FollowUp { get; set; }
    /// <summary>The app's optional hints for the hosted page, passed through to it as given.</summary>
    [Id(30)] public PatientHints? Hints { get; set; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool Exists => TenantId is not null;
}

/// <summary>
/// One patient session (key: its ps_ id): open → complete | expired. Runs the SMART authorization
/// code flow for it. Stored as one row of pc_patient_sessions (<see cref="SessionStore"/>), whose due_at
/// column is its durable schedule: <see cref="SessionScheduler"/> wakes it at expires_at (and soon after a
/// callback a lost silo left unfinished), across restarts, without a reminder row per session.
/// </summary>
public sealed partial class PatientSessionGrain(
    [PersistentState("session", SessionStore.Name)] IPersistentState<PatientSessionState> state,
    SourceCatalog catalog,
    SmartClient smart,
    IOptions<PatientConnectOptions> options,
    TimeProvider timeProvider,
    ILogger<PatientSessionGrain> logger,
    Webhooks.IEventOutbox outbox,
    Security.TokenProtector protector) : Grain, IPatientSessionGrain, IRemindable
{
    // A crash between a status write and its outbox insert leaves the event pending in the stored state;
    // the stored row stays due until a write after the flush, so the scheduler re-activates the grain to send it.
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        storedHasWork = SessionSchedule.HasWork(S);
        await Webhooks.EventLog.FlushAsync(S.PendingEvents, outbox, logger, Id);
        if (S.FollowUp is not null)
        {
            // A callback recorded its outcome and its silo went away before the connection had it: any
            // call that activates the session (the app polling it, the patient reloading) finishes it,
            // off the caller's turn so a read is not held up by it.
            this.RegisterGrainTimer(FinishFollowUpTimer, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        }
    }

    private async Task FinishFollowUpTimer(CancellationToken cancellationToken)
    {
        try
        {
            await FinishFollowUp();
        }
        catch (Exception e)
        {
            logger.LogWarning("Session {SessionId}: finishing the recorded callback failed ({Kind}); the scheduler will retry", Id, e.GetType().Name);
        }
    }

    /// <summary>The per-session reminder of earlier versions; one still registered only wakes the grain once more.</summary>
    public const string ExpiryReminder = "expire";

    /// <summary>Whether the stored row has a due time (see <see cref="SessionSchedule"/>): a write clears it once nothing is left.</summary>
    private bool storedHasWork;

    // Fallback when a token response omits expires_in: assume short, so a refresh comes early rather than late.
    private static readonly TimeSpan AssumedAccessLifetime = TimeSpan.FromMinutes(5);

    private string Id => this.GetPrimaryKeyString();
    private PatientSessionState S => state.State;

    public async Task<SessionView> Create(CreateSession request)
    {
        if (S.Exists)
        {
            // The same create again (a retry after a lost answer): the session it made is the answer.
            if (S.TenantId == request.TenantId && S.PatientId == request.PatientId && request.SessionId == Id)
            {
                return View(timeProvider.GetUtcNow());
            }
            throw new InvalidOperationException($"Session {Id} already exists.");
        }
        var now = request.CreatedAt ?? timeProvider.GetUtcNow();
        state.State = NewSessions.State(request, now);
        // The one durable write of a create: the session, its place in the patient's list and its
        // expiry schedule are all this row.
        await Save();
        // Debug, not Information: a line per create is a cost on the hot path; the metric counts them.
        logger.LogDebug("Session {SessionId} opened, expires {ExpiresAt:O}", Id, S.ExpiresAt);
        Telemetry.PatientConnectMetrics.SessionCreated();
        return View(now);
    }

    public async Task<CreateSessionResult> Open(CreateSession request)
    {
        if (request.SessionId != Id) throw new ArgumentException("The request's session id must be the grain's.", nameof(request));
        if (NewSessions.Check(request, catalog, options.Value) is { } refusal) return refusal;
        return new CreateSessionResult(await Create(request), null, null);
    }


    /// <summary>Writes the state; the store derives the row's list columns and due time from it.</summary>
    private async Task Save()
    {
        await state.WriteStateAsync();
        storedHasWork = SessionSchedule.HasWork(S);
    }

    public async Task Wake()
    {
        if (!S.Exists) return;
        var now = timeProvider.GetUtcNow();
        if (S.Status == SessionStatus.Open && S.FollowUp is null)
        {
            if (now < S.ExpiresAt)
            {
                // Woken early (clocks of two silos apart, or a claim of a row since re-aimed): store the
                // due time again, so the schedule points at the real expiry.
                await Save();
                return;
            }
            await Expire();
            return;
        }
        // Finished (or a callback outcome recorded): a wake here means a follow-up or a notification did
        // not happen (a silo lost mid-callback); all are idempotent, so do them again.
        await FinishFollowUp();
    }

    public Task<SessionView?> Get(string tenantId) =>
        Task.FromResult(S.Exists && S.TenantId == tenantId ? View(timeProvider.GetUtcNow()) : null);

    public Task<ConnectPage?> GetConnectPage()
    {
        if (!S.Exists) return Task.FromResult<ConnectPage?>(null);
        var status = EffectiveStatus(timeProvider.GetUtcNow());
        return Task.FromResult<ConnectPage?>(new ConnectPage(Id, status, S.SourceId, S.RecommendedSourceIds.ToArray(), ReturnLink(status), S.ExpiresAt, S.Hints));
    }

    public async Task<ConnectStep> BeginConnect(string sourceId)
    {
        if (!S.Exists) return new ConnectStep(null, "session_not_found", "This link is not valid.", null, ConnectRefusal.SessionNotFound);
        await ExpireIfDue();
        if (S.Status == SessionStatus.Expired)
        {
            return Refuse(ConnectRefusal.SessionOver, "session_expired", "This link has expired. Go back to the app to start again.");
        }
        if (S.Status == SessionStatus.Complete)
        {
            return Refuse(ConnectRefusal.SessionOver, "session_complete", "This session is already finished. Go back to the app.");
        }
        if (S.SourceId is not null && !string.Equals(sourceId, S.SourceId, StringComparison.Ordinal))
        {
            return Refuse(ConnectRefusal.SourceRefused, "source_not_allowed", "This link connects one particular health system only.");
        }
        var source = catalog.Find(sourceId);
        if (source is null) return Refuse(ConnectRefusal.SourceRefused, "unknown_source", "That health system is not in our directory.");
        if (source.Registration is not { } registration)
        {
            return Refuse(ConnectRefusal.SourceRefused, "source_not_connectable", $"{source.View.Name} cannot be connected yet. Please choose another health system.");
        }

        SmartConfiguration config;
        try
        {
            config = await smart.DiscoverAsync(source.View.FhirBaseUrl);
        }
        catch (SmartException e)
        {
            logger.LogWarning("Session {SessionId}: discovery of {SourceId} failed: {Description}", Id, sourceId, e.Description);
            // An endpoint outside the server's own domain is a configuration problem, not an outage:
            // its own code, so the page does not tell the patient to try again later.
            return e.Code == SmartClient.EndpointRefusedCode
                ? Refuse(ConnectRefusal.SourceRefused, e.Code, $"{source.View.Name} cannot be connected safely right now. Please choose another health system. ({e.Description})")
                : Refuse(ConnectRefusal.EhrUnavailable, "ehr_unavailable", $"{source.View.Name} is not reachable right now. Please try again in a few minutes. ({e.Description})");
        }

        var scopes = SmartScopes.Choose(config, (ServiceProvider.GetService(typeof(Sync.CompartmentTypeSelector)) as Sync.CompartmentTypeSelector)?.ExtraTypes(source.View.Vendor));
        var pkce = PkcePair.New();
        var oauthState = OAuthState.New(Id);
        var redirectUri = options.Value.RedirectUri;
        // A new transaction replaces any earlier one, so the state of an abandoned attempt stops working.
        S.Transaction = new OAuthTransactionState
        {
            StateNonce = NonceOf(oauthState)!,
            CodeVerifierProtected = protector.Protect(pkce.Verifier, VerifierContext),
            SourceId = sourceId,
            RedirectUri = redirectUri,
            TokenEndpoint = config.TokenEndpoint,
            FhirBaseUrl = config.FhirBaseUrl,
            Issuer = config.Issuer,
            JwksUri = config.JwksUri,
            ClientId = registration.ClientId,
            RequestedScopes = [.. scopes],
            StartedAt = timeProvider.GetUtcNow(),
        };
        S.ChosenSourceId = sourceId;
        await Save();
        logger.LogInformation("Session {SessionId}: authorizing at {SourceId}", Id, sourceId);
        var url = SmartClient.BuildAuthorizeUrl(config, registration.ClientId, redirectUri, scopes, oauthState, pkce.Challenge);
        return new ConnectStep(url, null, null, ReturnLink(S.Status));
    }

    public async Task<CallbackOutcome> CompleteCallback(OAuthCallback callback)
    {
        var nonce = S.Exists && OAuthState.SessionIdOf(callback.State) == Id ? NonceOf(callback.State) : null;
        var callbackHash = HashOf(callback);
        if (nonce is not null && S.CompletedStateNonce is { } completed && FixedTimeEquals(nonce, completed)
            && S.CompletedCallbackHash is { } completedHash && FixedTimeEquals(callbackHash, completedHash))
        {
            // The callback that finished this session, again: a reload, or a retry of a call cut off by
            // a silo loss. Finish what it left and send the patient where the first run did.
            await FinishFollowUp();
            return Outcome();
        }

        var tx = S.Transaction;
        // A state is good for one callback: an unknown or tampered state, or a used one with another
        // code (an attacker's, or a second consent with the same authorize URL), is refused.
        if (tx is null || nonce is null || !FixedTimeEquals(nonce, tx.StateNonce)
            || (tx.Used && !FixedTimeEquals(callbackHash, tx.CallbackHash ?? "")))
        {
            logger.LogWarning("Session {SessionId}: callback refused (unknown, replayed or tampered state)", Id);
            return new CallbackOutcome(null, "invalid_state",
                "This sign-in response is not valid or was already used. Go back to the app and start again.");
        }

        var now = timeProvider.GetUtcNow();
        if (S.Status == SessionStatus.Expired || (!tx.Used && EffectiveStatus(now) == SessionStatus.Expired))
        {
            if (S.Status != SessionStatus.Expired)
            {
                tx.Used = true;
                tx.CallbackHash = callbackHash;
                await Expire();
            }
            return new CallbackOutcome(ReturnLink(SessionStatus.Expired), "session_expired", "This link expired before the health system answered.");
        }

        if (callback.Error is not null)
        {
            // The portal said no (or failed before asking): nothing about any connection changes.
            var error = ErrorCodePattern().IsMatch(callback.Error) ? callback.Error : "ehr_error";
            var description = callback.ErrorDescription is { } d ? Truncate(d, 500) : DefaultDescription(error);
            await Complete(tx, callbackHash, error, description, connectionId: null, connectionStatus: null, followUp: null);
            await FinishFollowUp();
            return Outcome();
        }

        // The connection id is reserved before the code is spent, and the state is burnt (with this
        // callback's hash) before anything reaches the token endpoint: a racing replay or a crash
        // cannot get a second exchange, while this same callback run again (retry, reload) can go on.
        var firstRun = !tx.Used;
        tx.ConnectionId ??= await Patient().GetOrAddConnectionId(tx.SourceId);
        if (firstRun)
        {
            tx.Used = true;
            tx.CallbackHash = callbackHash;
            // The outcome written next carries its own due time (soon, while its follow-up is pending),
            // so a silo lost between the outcome and its follow-up leaves the scheduler something to wake.
            await Save();
        }

        CallbackFollowUp followUp;
        try
        {
            var grant = await Exchange(tx, callback.Code, now);
            followUp = new CallbackFollowUp
            {
                ConnectionId = tx.ConnectionId,
                SourceId = tx.SourceId,
                AccessTokenProtected = protector.Protect(grant.AccessToken, FollowUpContext("access")),
                RefreshTokenProtected = grant.RefreshToken is null ? null : protector.Protect(grant.RefreshToken, FollowUpContext("refresh")),
                AccessExpiresAt = grant.AccessExpiresAt,
                Scopes = [.. grant.Scopes],
                FhirPatientId = grant.FhirPatientId,
                GrantId = $"{Id}.{tx.StateNonce}",
                RefreshExpiresAt = grant.RefreshExpiresAt,
            };
            await Complete(tx, callbackHash, null, null, tx.ConnectionId, ConnectionStatus.Active, followUp);
        }
        catch (SmartException e)
        {
            logger.LogWarning("Session {SessionId}: connecting {SourceId} failed: {Code}", Id, tx.SourceId, e.Code);
            followUp = new CallbackFollowUp
            {
                ConnectionId = tx.ConnectionId,
                SourceId = tx.SourceId,
                FailureCode = e.Code,
                FailureDescription = e.Description,
            };
            await Complete(tx, callbackHash, "ehr_error", e.Description, tx.ConnectionId, ConnectionStatus.Failed, followUp);
        }

        try
        {
            await FinishFollowUp();
        }
        catch (Exception e)
        {
            // The outcome is stored, due soon: the scheduler (within minutes) or the next call finishes the rest.
            // The patient still goes back to the app with it.
            logger.LogWarning("Session {SessionId}: connection follow-up failed ({Kind}); kept for the scheduler", Id, e.GetType().Name);
        }
        return Outcome();
    }

    /// <summary>
    /// The recorded callback's remaining steps: the grant to the connection (applied once, by its id),
    /// then the session's events and the patient's index. Each is idempotent, so any trigger may run it.
    /// </summary>
    private async Task FinishFollowUp()
    {
        if (S.FollowUp is { } followUp)
        {
            var binding = new ConnectionBinding(S.TenantId!, S.PatientId, followUp.SourceId);
            var connection = GrainFactory.GetGrain<IConnectionGrain>(followUp.ConnectionId);
            ConnectionView view;
            if (followUp.FailureCode is { } code)
            {
                view = await connection.Fail(binding, code, followUp.FailureDescription ?? code);
            }
            else
            {
                view = await connection.Activate(binding, new TokenGrant(
                    protector.Unprotect(followUp.AccessTokenProtected!, FollowUpContext("access")),
                    followUp.RefreshTokenProtected is { } refresh ? protector.Unprotect(refresh, FollowUpContext("refresh")) : null,
                    followUp.AccessExpiresAt,
                    followUp.Scopes.ToArray(),
                    followUp.FhirPatientId,
                    followUp.GrantId,
                    followUp.RefreshExpiresAt));
            }
            // The connection holds the tokens now; the session keeps none.
            S.FollowUp = null;
            S.ConnectionStatus = view.Status;
            await Save();
        }
        await Webhooks.EventLog.FlushAsync(S.PendingEvents, outbox, logger, Id);
        if (S.Status != SessionStatus.Open) await AfterStatusChange(S.Status);
    }

    /// <summary>Where the patient goes for this session's recorded outcome.</summary>
    private CallbackOutcome Outcome() => S.Status switch
    {
        SessionStatus.Complete when S.Error is null => new(ReturnLink(S.Status), null, null),
        SessionStatus.Expired => new(ReturnLink(S.Status), "session_expired", "This link expired before the health system answered."),
        _ => new(ReturnLink(S.Status), S.Error, S.ErrorDescription),
    };

    private string FollowUpContext(string kind) => $"{Id}/callback-{kind}";

    private string VerifierContext => $"{Id}/pkce-verifier";

    private static string HashOf(OAuthCallback callback) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{callback.Code}\n{callback.Error}")));

    /// <summary>
    /// A reminder registered by an earlier version (one per session): retired, and the grain woken once
    /// as it would have been; the stored schedule does the rest from now on.
    /// </summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ExpiryReminder) return;
        if (await this.GetReminder(ExpiryReminder) is { } reminder) await this.UnregisterReminder(reminder);
        await Wake();
    }

    /// <summary>The code exchange and the id_token check; every failure becomes a SmartException.</summary>
    private async Task<TokenGrant> Exchange(OAuthTransactionState tx, string? code, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(code))
        {
            throw new SmartException("ehr_error", "The health system returned neither an authorization code nor an error.");
        }
        var registration = catalog.Find(tx.SourceId)?.Registration
            ?? throw new SmartException("ehr_error", "The health system is no longer configured for connections.");
        try
        {
            var verifier = tx.CodeVerifierProtected is { } sealedVerifier ? protector.Unprotect(sealedVerifier, VerifierContext) : tx.CodeVerifier;
            var token = await smart.ExchangeCodeAsync(tx.TokenEndpoint, registration, code, tx.RedirectUri, verifier);
            string? fhirUser = null;
            if (token.IdToken is not null)
            {
                fhirUser = await smart.ValidateIdTokenAsync(tx.FhirBaseUrl, tx.Issuer, tx.JwksUri, registration.ClientId, token.IdToken);
            }
            // The granted scope is authoritative; RFC 6749 §5.1 says an omitted scope means "as requested".
            var scopes = token.Scope is null ? tx.RequestedScopes : SmartScopes.Split(token.Scope);
            // Patient-level scopes are meaningless without the patient context (SMART "launch/patient");
            // an active connection that cannot say whose records it reads would only fail later.
            var fhirPatientId = token.Patient ?? PatientIdOf(fhirUser)
                ?? throw new SmartException("ehr_error", "The health system did not say which patient record was shared.");
            return new TokenGrant(
                token.AccessToken,
                token.RefreshToken,
                now + (token.ExpiresIn ?? AssumedAccessLifetime),
                scopes.ToArray(),
                fhirPatientId,
                RefreshExpiresAt: token.RefreshExpiresIn is { } lifetime ? now + lifetime : null);
        }
        catch (SmartException)
        {
            throw;
        }
        catch (Exception e)
        {
            // Anything else (a bad key in configuration, a malformed answer) is still this EHR attempt
            // failing; the message of e is not passed on because it could quote the response.
            logger.LogError("Session {SessionId}: unexpected {Kind} during the code exchange", Id, e.GetType().Name);
            throw new SmartException("ehr_error", "The connection could not be completed because of an unexpected error.", e);
        }
    }

    private async Task ExpireIfDue()
    {
        if (S.Status == SessionStatus.Open && timeProvider.GetUtcNow() >= S.ExpiresAt) await Expire();
    }

    private async Task Expire()
    {
        S.Status = SessionStatus.Expired;
        // The state of a transaction in flight stays recognisable, so a patient coming back from the
        // portal late gets "session expired" at the app rather than an unknown-state page; the verifier
        // goes, since no exchange will ever happen.
        if (S.Transaction is { } tx)
        {
            tx.CodeVerifier = "";
            tx.CodeVerifierProtected = null;
        }
        S.PendingEvents.Add(Webhooks.EventJson.ForSession(PatientConnect.Webhooks.WebhookEventTypes.SessionExpired, S.TenantId!, View(timeProvider.GetUtcNow()), timeProvider.GetUtcNow()));
        await Save();
        await Webhooks.EventLog.FlushAsync(S.PendingEvents, outbox, logger, Id);
        logger.LogInformation("Session {SessionId} expired", Id);
        Telemetry.PatientConnectMetrics.SessionExpired();
        await AfterStatusChange(SessionStatus.Expired);
    }

    /// <summary>
    /// Records the callback's outcome in one write: the status, what the connection still has to be
    /// told, the event, and the state and callback that got here (so the same callback again finds it).
    /// </summary>
    private async Task Complete(OAuthTransactionState tx, string callbackHash, string? error, string? description,
        string? connectionId, ConnectionStatus? connectionStatus, CallbackFollowUp? followUp)
    {
        S.Status = SessionStatus.Complete;
        S.CompletedAt = timeProvider.GetUtcNow();
        S.Error = error;
        S.ErrorDescription = description;
        S.ConnectionId = connectionId;
        S.ConnectionStatus = connectionStatus;
        S.ChosenSourceId = tx.SourceId;
        S.CompletedStateNonce = tx.StateNonce;
        S.CompletedCallbackHash = callbackHash;
        S.FollowUp = followUp;
        S.Transaction = null;
        S.PendingEvents.Add(Webhooks.EventJson.ForSession(PatientConnect.Webhooks.WebhookEventTypes.SessionCompleted, S.TenantId!, View(S.CompletedAt.Value), S.CompletedAt.Value));
        await Save();
        logger.LogInformation("Session {SessionId} complete: {Outcome}", Id, error ?? "success");
        Telemetry.PatientConnectMetrics.ConnectFinished(catalog, S.ChosenSourceId ?? S.SourceId, error ?? "success");
    }

    /// <summary>
    /// Once the status change, its follow-up and its events are all handed on, a write takes the row off
    /// the schedule (its events were flushed after the write that stored them, so that write still said
    /// "due"). The new status is already stored, so a failure here must not fail the patient's redirect:
    /// the row stays due and the scheduler wakes the grain to try again.
    /// </summary>
    private async Task AfterStatusChange(SessionStatus status)
    {
        if (!storedHasWork || SessionSchedule.HasWork(S)) return;
        try
        {
            await Save();
        }
        catch (Exception e)
        {
            logger.LogWarning("Session {SessionId}: settling the {Status} status failed ({Kind}); the scheduler will retry", Id, status, e.GetType().Name);
        }
    }

    private IPatientGrain Patient() => GrainFactory.GetGrain<IPatientGrain>(Ids.PatientKey(S.TenantId!, S.PatientId));

    private SessionStatus EffectiveStatus(DateTimeOffset now) => SessionViews.EffectiveStatus(S, now);

    private ConnectStep Refuse(ConnectRefusal kind, string code, string message) =>
        new(null, code, message, ReturnLink(EffectiveStatus(timeProvider.GetUtcNow())), kind);

    /// <summary>return_url with the outcome parameters of the contract for the given status.</summary>
    private string ReturnLink(SessionStatus status)
    {
        var query = new Dictionary<string, string?>
        {
            ["patient_id"] = S.PatientId,
            ["patient_session_id"] = Id,
        };
        switch (status)
        {
            case SessionStatus.Complete when S.Error is null:
                query["success"] = "true";
                query["connection_id"] = S.ConnectionId;
                break;
            case SessionStatus.Complete:
                query["success"] = "false";
                if (S.ConnectionId is not null) query["connection_id"] = S.ConnectionId;
                query["error"] = S.Error;
                query["error_description"] = S.ErrorDescription;
                break;
            case SessionStatus.Expired:
                query["success"] = "false";
                query["error"] = "session_expired";
                query["error_description"] = "The connect link expired before the patient finished.";
                break;
            default:
                // Still open: the patient chose to go back without connecting; the session stays usable.
                query["success"] = "false";
                query["error"] = "cancelled";
                query["error_description"] = "The patient went back without connecting a health system.";
                break;
        }
        return QueryHelpers.AddQueryString(S.ReturnUrl, query);
    }

    private SessionView View(DateTimeOffset now) => SessionViews.From(Id, S, options.Value, now);

    private static string? NonceOf(string? oauthState)
    {
        var dot = oauthState?.IndexOf('.') ?? -1;
        return dot > 0 && dot < oauthState!.Length - 1 ? oauthState[(dot + 1)..] : null;
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    /// <summary>"Patient/123" or ".../Patient/123" from a fhirUser claim; other user types give null.</summary>
    private static string? PatientIdOf(string? fhirUser)
    {
        if (fhirUser is null) return null;
        var marker = fhirUser.LastIndexOf("Patient/", StringComparison.Ordinal);
        if (marker < 0 || (marker > 0 && fhirUser[marker - 1] != '/')) return null;
        var id = fhirUser[(marker + "Patient/".Length)..];
        return id.Length > 0 && !id.Contains('/') ? id : null;
    }

    private static string DefaultDescription(string error) => error switch
    {
        "access_denied" => "The patient did not allow access.",
        _ => "The health system ended the sign-in with an error.",
    };

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];

    // RFC 6749 error codes are short ASCII tokens; anything else from the query string is not echoed.
    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex ErrorCodePattern();

    /// <summary>Right to delete: no reminder, no state, no event (the patient's erasure job deletes the rest).</summary>
    public async Task<bool> Erase(string tenantId)
    {
        if (!S.Exists || S.TenantId != tenantId) return false;
        // Sessions are woken by the session schedule (their row, which ClearStateAsync deletes); an expiry
        // reminder of an earlier version may still exist.
        if (await this.GetReminder(ExpiryReminder) is { } reminder) await this.UnregisterReminder(reminder);
        await state.ClearStateAsync();
        state.State = new PatientSessionState();
        DeactivateOnIdle();
        return true;
    }
}

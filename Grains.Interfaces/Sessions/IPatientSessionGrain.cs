namespace PatientConnect.Sessions;

/// <summary>One patient session, keyed by its ps_ id.</summary>
[Alias("pc.IPatientSessionGrain")]
public interface IPatientSessionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Opens the session after checking the request against <see cref="SessionRules"/> and the directory:
    /// the new session, or the refused field. The caller picks the session id (the grain's key) once, so
    /// a retried call finds the session its first attempt made. One durable write.
    /// </summary>
    [Alias("Open"), Retryable] Task<CreateSessionResult> Open(CreateSession request);

    /// <summary>Opens the session from a request already checked (tests use it for lifetimes under the 60 s floor).</summary>
    [Alias("Create"), Retryable] Task<SessionView> Create(CreateSession request);

    /// <summary>Its stored due time has come (the scheduler): record the expiry, or finish a callback's leftovers.</summary>
    [Alias("Wake"), Retryable] Task Wake();

    /// <summary>The session, or null when it does not exist or belongs to another tenant.</summary>
    /// <remarks>
    /// Always interleaved: the patient grain lists sessions by calling Get while a session may be inside
    /// CompleteCallback waiting on that same patient grain (GetOrAddConnectionId); a queued Get would
    /// deadlock the two until the call timeout. Get only reads memory, so running it between turns is safe.
    /// </remarks>
    [ReadOnly, AlwaysInterleave, Alias("Get"), Retryable, ResponseTimeout("00:00:03")] Task<SessionView?> Get(string tenantId);

    /// <summary>The hosted page's view, or null when no such session exists.</summary>
    [ReadOnly, Alias("GetConnectPage"), Retryable, ResponseTimeout("00:00:03")] Task<ConnectPage?> GetConnectPage();

    /// <summary>Starts the OAuth transaction with a source (PKCE, state) and returns where to send the patient.</summary>
    [Alias("BeginConnect"), Retryable, ResponseTimeout("00:00:05")] Task<ConnectStep> BeginConnect(string sourceId);

    /// <summary>Finishes the OAuth transaction; the state must be this session's and unused.</summary>
    [Alias("CompleteCallback"), Retryable, ResponseTimeout("00:00:05")] Task<CallbackOutcome> CompleteCallback(OAuthCallback callback);

    /// <summary>Right to delete: stops the expiry reminder and deletes this grain's state without an event; false when not this tenant's.</summary>
    [Alias("Erase")] Task<bool> Erase(string tenantId);
}

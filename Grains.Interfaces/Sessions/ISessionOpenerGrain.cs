namespace PatientConnect.Sessions;

/// <summary>
/// Opens patient sessions (POST /v1/patient-sessions): checks the request and stores the new session
/// in one write, without activating its grain (the first call to the session activates it from the
/// stored row). A stateless worker, so a create runs on the silo the call arrives at.
/// </summary>
[Alias("pc.ISessionOpenerGrain")]
public interface ISessionOpenerGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// The new session, or the refused field. <see cref="CreateSession.SessionId"/> is required: the
    /// caller picks it once, so a retried call finds the session its first attempt stored.
    /// </summary>
    /// <remarks>3 s: within the retry budget a create sent to a silo that died silently is retried (same session id).</remarks>
    [Alias("Open"), Retryable, ResponseTimeout("00:00:03")] Task<CreateSessionResult> Open(CreateSession request);
}

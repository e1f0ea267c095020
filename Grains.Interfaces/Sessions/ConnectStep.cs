namespace PatientConnect.Sessions;

/// <summary>Why the session grain did not send the patient on (the page's status and wording follow from it).</summary>
[GenerateSerializer, Alias("pc.ConnectRefusal")]
public enum ConnectRefusal
{
    None,
    /// <summary>No such session.</summary>
    SessionNotFound,
    /// <summary>The link is over: the session expired or already finished.</summary>
    SessionOver,
    /// <summary>This source cannot be used from this link (not allowed, unknown, not connectable, untrusted endpoints).</summary>
    SourceRefused,
    /// <summary>The source's SMART service did not answer: worth trying again later.</summary>
    EhrUnavailable,
}

/// <summary>
/// The answer to "take the patient to this source": a redirect to the EHR's authorize URL, or a
/// refusal the page shows (expired or finished session, unknown or unconnectable source, EHR
/// discovery failure) with a link back to the app.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.ConnectStep")]
public sealed record ConnectStep(
    [property: Id(0)] string? AuthorizeUrl,
    [property: Id(1)] string? ErrorCode,
    [property: Id(2)] string? ErrorMessage,
    [property: Id(3)] string? ReturnLink,
    [property: Id(4)] ConnectRefusal Refusal = ConnectRefusal.None)
{
    // The authorize URL carries a live OAuth state: keep it out of any log line that prints the
    // record (Orleans prints message bodies when it drops or times out a message).
    public override string ToString() =>
        $"ConnectStep {{ Authorize = {(AuthorizeUrl is null ? "none" : "(redacted)")}, ErrorCode = {ErrorCode} }}";
}

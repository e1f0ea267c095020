using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// The session object built from a stored session: the grain answers GET with it, and a patient's list
/// builds its pages from the stored rows with it, so both show the same thing without a grain per row.
/// </summary>
public static class SessionViews
{
    public static SessionView From(string id, PatientSessionState s, PatientConnectOptions options, DateTimeOffset now) => new(
        id,
        s.PatientId,
        EffectiveStatus(s, now),
        options.SessionUrl(id),
        s.ReturnUrl,
        ReportedSourceId(s),
        s.ConnectionId,
        s.ConnectionStatus,
        s.Error,
        s.ErrorDescription,
        s.MetadataJson,
        s.CreatedAt,
        s.ExpiresAt,
        s.CompletedAt,
        s.RecommendedSourceIds.ToArray(),
        s.Hints);

    /// <summary>An open session past its expiry is expired, whether or not its expiry has been recorded yet.</summary>
    public static SessionStatus EffectiveStatus(PatientSessionState s, DateTimeOffset now) => EffectiveStatus(s.Status, s.ExpiresAt, now);

    /// <summary>The same rule on a stored row's status and expiry columns (lists read those, not the state).</summary>
    public static SessionStatus EffectiveStatus(SessionStatus stored, DateTimeOffset expiresAt, DateTimeOffset now) =>
        stored == SessionStatus.Open && now >= expiresAt ? SessionStatus.Expired : stored;

    /// <summary>
    /// Direct mode: the source the app named. Hosted mode: none while the patient is choosing; once the
    /// session is complete, the source they chose last (the one its only transaction went to).
    /// </summary>
    public static string? ReportedSourceId(PatientSessionState s) =>
        s.SourceId ?? (s.Status == SessionStatus.Complete ? s.ChosenSourceId : null);
}

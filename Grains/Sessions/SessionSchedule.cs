using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// When a stored session next needs its grain without anyone calling it: at expires_at while it is open
/// (to record the expiry and send patient_session.expired), or soon while a finished callback or its
/// events are still to be handed on (a silo lost in between). Null: nothing left to do.
/// Stored with every write of the session (column due_at), which is what makes it durable.
/// </summary>
public static class SessionSchedule
{
    /// <summary>How long a claimed session waits before it is woken again if its grain did not settle it.</summary>
    public static readonly TimeSpan Retry = TimeSpan.FromMinutes(1);

    public static bool HasWork(PatientSessionState s) =>
        s.Exists && (s.Status == SessionStatus.Open || s.FollowUp is not null || s.PendingEvents.Count > 0);

    public static DateTimeOffset? DueAt(PatientSessionState s, DateTimeOffset now)
    {
        if (!HasWork(s)) return null;
        if (s.Status == SessionStatus.Open && s.FollowUp is null && s.PendingEvents.Count == 0) return s.ExpiresAt;
        return now + Retry;
    }
}

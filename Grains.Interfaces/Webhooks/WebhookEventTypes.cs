namespace PatientConnect.Webhooks;

/// <summary>The event types of CONTRACT.md.</summary>
public static class WebhookEventTypes
{
    public const string SessionCompleted = "patient_session.completed";
    public const string SessionExpired = "patient_session.expired";
    public const string ConnectionActive = "connection.active";
    public const string ConnectionFailed = "connection.failed";
    public const string ConnectionRefreshFailed = "connection.refresh_failed";
    public const string ConnectionDisconnected = "connection.disconnected";
    /// <summary>The patient's authorization at the source ends soon (PatientConnect:Authorization:WarnBefore); once per authorization.</summary>
    public const string ConnectionExpiring = "connection.expiring";
    public const string SyncCompleted = "records.sync.completed";
    public const string SyncFailed = "records.sync.failed";
    /// <summary>A patient's erasure completed; data is the job object (no patient id), aggregate the del_ job id.</summary>
    public const string PatientDeleted = "patient.deleted";

    // In the patient history only (GET /v1/patients/{id}/events), never sent to webhook endpoints.
    public const string ConnectionRefreshed = "connection.refreshed";
    public const string SyncStarted = "records.sync.started";

    public static bool IsHistoryOnly(string type) => type is ConnectionRefreshed or SyncStarted;

    /// <summary>Every type the history can hold (the ?type= filter accepts these).</summary>
    public static readonly IReadOnlyList<string> All =
    [
        SessionCompleted, SessionExpired, ConnectionActive, ConnectionFailed, ConnectionRefreshFailed, ConnectionDisconnected, ConnectionExpiring,
        SyncCompleted, SyncFailed, ConnectionRefreshed, SyncStarted,
    ];

    /// <summary>The types a webhook endpoint can receive (its event_types filter accepts these).</summary>
    public static readonly IReadOnlyList<string> Deliverable =
    [
        SessionCompleted, SessionExpired, ConnectionActive, ConnectionFailed, ConnectionRefreshFailed, ConnectionDisconnected, ConnectionExpiring,
        SyncCompleted, SyncFailed, PatientDeleted,
    ];
}

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
    public const string SyncCompleted = "records.sync.completed";
    public const string SyncFailed = "records.sync.failed";
}

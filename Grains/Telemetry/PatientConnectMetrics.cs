using System.Diagnostics;
using System.Diagnostics.Metrics;
using PatientConnect.Grains.Sources;

namespace PatientConnect.Grains.Telemetry;

/// <summary>
/// The product metrics (meter "PatientConnect") and our activity source, in one place: the grains
/// call the small methods below at the moment something happened. Tags are low-cardinality on
/// purpose (vendor, result, outcome): never a tenant, patient, id or anything secret. README lists
/// every instrument with its Prometheus name and an example alert.
/// </summary>
public static class PatientConnectMetrics
{
    public const string Name = "PatientConnect";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> SessionsCreated = Meter.CreateCounter<long>(
        "patientconnect.sessions.created", "{session}", "Patient sessions created.");

    private static readonly Counter<long> SessionsCompleted = Meter.CreateCounter<long>(
        "patientconnect.sessions.completed", "{session}", "Patient sessions that ended, by outcome (success, access_denied, ehr_error, …, expired).");

    private static readonly Counter<long> ConnectAttempts = Meter.CreateCounter<long>(
        "patientconnect.connect.attempts", "{attempt}", "Authorization callbacks that ended a session, by source vendor and result.");

    private static readonly Counter<long> ConnectionStatusChanges = Meter.CreateCounter<long>(
        "patientconnect.connection.status_changes", "{change}", "Connections entering a status (active, failed, refresh_failed, disconnected).");

    private static readonly Counter<long> TokenRefreshes = Meter.CreateCounter<long>(
        "patientconnect.token.refreshes", "{refresh}", "Token refreshes by source vendor and result (refreshed, rejected, transient, error).");

    private static readonly Histogram<double> TokenRefreshLag = Meter.CreateHistogram<double>(
        "patientconnect.token.refresh.lag", "s", "How long after its due time a refresh ran (0 when on time or early).");

    private static readonly Counter<long> Syncs = Meter.CreateCounter<long>(
        "patientconnect.syncs", "{sync}", "Record syncs that ended, by source vendor and result (completed, failed).");

    private static readonly Histogram<double> SyncDuration = Meter.CreateHistogram<double>(
        "patientconnect.sync.duration", "s", "Duration of record syncs from start to end, by source vendor and result.");

    private static readonly Counter<long> SyncResources = Meter.CreateCounter<long>(
        "patientconnect.sync.resources", "{resource}", "FHIR resources fetched by syncs that ended, by source vendor.");

    private static readonly Counter<long> RecordsStoredCounter = Meter.CreateCounter<long>(
        "patientconnect.records.stored", "{record}", "Records written to pc_records (rate: records stored per second).");

    private static readonly Counter<long> WebhookDeliveries = Meter.CreateCounter<long>(
        "patientconnect.webhook.deliveries", "{attempt}", "Webhook delivery attempts by result (delivered, retry, failed).");

    private static readonly Counter<long> RetentionDeletedRows = Meter.CreateCounter<long>(
        "patientconnect.retention.deleted", "{row}", "Rows deleted by the retention job, by kind.");

    public static void SessionCreated() => SessionsCreated.Add(1);

    /// <summary>A callback ended the session: one connect attempt, one completed session, same result.</summary>
    public static void ConnectFinished(SourceCatalog catalog, string? sourceId, string result)
    {
        ConnectAttempts.Add(1, new("vendor", VendorOf(catalog, sourceId)), new("result", result));
        SessionsCompleted.Add(1, new KeyValuePair<string, object?>("outcome", result));
    }

    public static void SessionExpired() => SessionsCompleted.Add(1, new KeyValuePair<string, object?>("outcome", "expired"));

    public static void ConnectionEntered(string status) =>
        ConnectionStatusChanges.Add(1, new KeyValuePair<string, object?>("status", status));

    public static void TokenRefreshed(string vendor, string result, TimeSpan lag)
    {
        TokenRefreshes.Add(1, new("vendor", vendor), new("result", result));
        TokenRefreshLag.Record(Math.Max(0, lag.TotalSeconds), new KeyValuePair<string, object?>("vendor", vendor));
    }

    public static void SyncFinished(string vendor, string result, TimeSpan duration, long resources)
    {
        Syncs.Add(1, new("vendor", vendor), new("result", result));
        SyncDuration.Record(duration.TotalSeconds, new("vendor", vendor), new("result", result));
        SyncResources.Add(resources, new KeyValuePair<string, object?>("vendor", vendor));
    }

    public static void RecordsStored(int count)
    {
        if (count > 0) RecordsStoredCounter.Add(count);
    }

    public static void WebhookAttempt(string result) =>
        WebhookDeliveries.Add(1, new KeyValuePair<string, object?>("result", result));

    public static void RetentionDeleted(PatientConnect.Retention.RetentionReport report)
    {
        RetentionDeletedRows.Add(report.WebhookAttempts, new KeyValuePair<string, object?>("kind", "webhook_attempts"));
        RetentionDeletedRows.Add(report.WebhookDeliveries, new KeyValuePair<string, object?>("kind", "webhook_deliveries"));
        RetentionDeletedRows.Add(report.WebhookEvents, new KeyValuePair<string, object?>("kind", "webhook_events"));
        RetentionDeletedRows.Add(report.IdempotencyRecords, new KeyValuePair<string, object?>("kind", "idempotency_records"));
        RetentionDeletedRows.Add(report.Sessions, new KeyValuePair<string, object?>("kind", "sessions"));
    }

    /// <summary>The source's vendor (epic, cerner, …) or "unknown": a bounded tag, unlike source ids.</summary>
    public static string VendorOf(SourceCatalog catalog, string? sourceId) =>
        catalog.Find(sourceId)?.View.Vendor is { Length: > 0 } vendor ? vendor.ToLowerInvariant() : "unknown";
}

using System.Text.Json;
using PatientConnect.Connections;
using PatientConnect.Contract;
using PatientConnect.Sessions;
using PatientConnect.Webhooks;

namespace PatientConnect.Grains.Webhooks;

/// <summary>
/// Event bodies of CONTRACT.md: {id, type, created_at, data}, data being the session or connection
/// object as the Api's GET returns it: both use the shapes in Grains.Interfaces/Json with the same
/// naming (snake_case, snake_case enum strings, nulls kept, UTC times); an end-to-end test compares a
/// webhook's data with the GET answer field for field.
/// </summary>
public static class EventJson
{
    private static JsonSerializerOptions Options => ContractJson.Options;

    /// <summary>
    /// A connection event. <paramref name="statusBefore"/> is the connection's status before the change,
    /// or for records.sync.* events the sync's status before it (their after is the sync's status too).
    /// </summary>
    public static PendingEvent ForConnection(string type, string tenantId, ConnectionView view, DateTimeOffset now, string? statusBefore = null)
    {
        var e = Create(type, tenantId, view.Id, now, ConnectionJson.From(view));
        var isSync = type.StartsWith("records.sync.", StringComparison.Ordinal);
        e.PatientId = view.PatientId;
        e.ConnectionId = view.Id;
        e.StatusBefore = statusBefore;
        e.StatusAfter = isSync ? Wire(view.Sync?.Status ?? SyncStatus.Pending) : Wire(view.Status);
        e.FailureCode = isSync ? null : view.FailureCode;
        e.FailureDescription = isSync ? view.Sync?.Error : view.FailureDescription;
        return e;
    }

    /// <summary>A session event: every one ends an open session (completed or expired).</summary>
    public static PendingEvent ForSession(string type, string tenantId, SessionView view, DateTimeOffset now)
    {
        var e = Create(type, tenantId, view.Id, now, SessionJson.From(view));
        e.PatientId = view.PatientId;
        e.SessionId = view.Id;
        e.ConnectionId = view.ConnectionId;
        e.StatusBefore = Wire(SessionStatus.Open);
        e.StatusAfter = Wire(view.Status);
        e.FailureCode = view.Error;
        e.FailureDescription = view.ErrorDescription;
        return e;
    }

    /// <summary>
    /// patient.deleted: the erasure job object as data, and no patient id in any column (the patient's
    /// rows are gone; the app correlates by the job id). The id is the job's, chosen up front, so a
    /// repeated append after a crash stores the event once.
    /// </summary>
    public static PendingEvent ForErasure(string eventId, string tenantId, PatientConnect.Erasure.ErasureJobView view, DateTimeOffset now) =>
        Create(WebhookEventTypes.PatientDeleted, tenantId, view.Id, now, PatientConnect.Erasure.ErasureJobJson.From(view), eventId);

    /// <summary>An enum value as the API writes it (snake_case).</summary>
    public static string Wire<T>(T value) where T : struct, Enum => JsonSerializer.Serialize(value, Options).Trim('"');

    private static PendingEvent Create<T>(string type, string tenantId, string aggregateId, DateTimeOffset now, T data, string? eventId = null)
    {
        var id = eventId ?? Ids.NewEventId();
        var body = new EventBody<T>(id, type, now.UtcDateTime, data);
        return new PendingEvent
        {
            EventId = id,
            Type = type,
            TenantId = tenantId,
            AggregateId = aggregateId,
            CreatedAt = now,
            Payload = JsonSerializer.Serialize(body, Options),
            Deliver = !WebhookEventTypes.IsHistoryOnly(type),
        };
    }

    private sealed record EventBody<T>(string Id, string Type, DateTime CreatedAt, T Data);
}

using System.Text.Json;
using System.Text.Json.Serialization;
using PatientConnect.Connections;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Webhooks;

/// <summary>
/// Event bodies of CONTRACT.md: {id, type, created_at, data}, data being the session or connection
/// object as the Api's GET returns it. The Grains have no reference to the Api, so the shapes are
/// written out here with the same naming (snake_case, snake_case enum strings, nulls kept, UTC times);
/// an end-to-end test compares a webhook's data with the GET answer field for field.
/// </summary>
public static class EventJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static PendingEvent ForConnection(string type, string tenantId, ConnectionView view, DateTimeOffset now) =>
        Create(type, tenantId, view.Id, now, ConnectionData.From(view));

    public static PendingEvent ForSession(string type, string tenantId, SessionView view, DateTimeOffset now) =>
        Create(type, tenantId, view.Id, now, SessionData.From(view));

    private static PendingEvent Create<T>(string type, string tenantId, string aggregateId, DateTimeOffset now, T data)
    {
        var id = Ids.NewEventId();
        var body = new EventBody<T>(id, type, now.UtcDateTime, data);
        return new PendingEvent
        {
            EventId = id,
            Type = type,
            TenantId = tenantId,
            AggregateId = aggregateId,
            CreatedAt = now,
            Payload = JsonSerializer.Serialize(body, Options),
        };
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private sealed record EventBody<T>(string Id, string Type, DateTime CreatedAt, T Data);

    private sealed record ConnectionData(
        string Id,
        string PatientId,
        string SourceId,
        ConnectionStatus Status,
        string? FailureCode,
        string? FailureDescription,
        IReadOnlyList<string> Scopes,
        string? FhirPatientId,
        DateTime? ConnectedAt,
        DateTime? LastRefreshedAt,
        DateTime? AccessExpiresAt,
        SyncData Sync,
        DateTime CreatedAt,
        DateTime UpdatedAt)
    {
        public static ConnectionData From(ConnectionView v) => new(
            v.Id, v.PatientId, v.SourceId, v.Status, v.FailureCode, v.FailureDescription, v.Scopes, v.FhirPatientId,
            v.ConnectedAt?.UtcDateTime, v.LastRefreshedAt?.UtcDateTime, v.AccessExpiresAt?.UtcDateTime,
            SyncData.From(v.Sync ?? SyncView.Pending), v.CreatedAt.UtcDateTime, v.UpdatedAt.UtcDateTime);
    }

    private sealed record SyncData(
        SyncStatus Status,
        long ResourcesFetched,
        DateTime? StartedAt,
        DateTime? CompletedAt,
        string? Error,
        IReadOnlyDictionary<string, long> Counts,
        IReadOnlyList<string> Notes)
    {
        public static SyncData From(SyncView v) => new(
            v.Status, v.ResourcesFetched, v.StartedAt?.UtcDateTime, v.CompletedAt?.UtcDateTime, v.Error,
            v.Counts ?? new Dictionary<string, long>(), v.Notes ?? []);
    }

    private sealed record SessionData(
        string Id,
        string PatientId,
        SessionStatus Status,
        string Url,
        string ReturnUrl,
        string? SourceId,
        string? ConnectionId,
        ConnectionStatus? ConnectionStatus,
        string? Error,
        string? ErrorDescription,
        JsonElement Metadata,
        DateTime CreatedAt,
        DateTime ExpiresAt,
        DateTime? CompletedAt,
        IReadOnlyList<string> RecommendedSourceIds)
    {
        private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

        public static SessionData From(SessionView v) => new(
            v.Id, v.PatientId, v.Status, v.Url, v.ReturnUrl, v.SourceId, v.ConnectionId, v.ConnectionStatus, v.Error,
            v.ErrorDescription, ParseMetadata(v.MetadataJson), v.CreatedAt.UtcDateTime, v.ExpiresAt.UtcDateTime,
            v.CompletedAt?.UtcDateTime, v.RecommendedSourceIds);

        private static JsonElement ParseMetadata(string? json)
        {
            if (string.IsNullOrWhiteSpace(json)) return EmptyObject;
            try
            {
                using var document = JsonDocument.Parse(json);
                return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : EmptyObject;
            }
            catch (JsonException)
            {
                return EmptyObject;
            }
        }
    }
}

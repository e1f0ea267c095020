using System.Text.Json;
using System.Text.Json.Serialization;
using PatientConnect.Connections;
using PatientConnect.Contract;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Webhooks;

/// <summary>
/// Event bodies of CONTRACT.md: {id, type, created_at, data}, data being the session or connection
/// object as the Api's GET returns it: both use the shapes in Grains.Interfaces/Json with the same
/// naming (snake_case, snake_case enum strings, nulls kept, UTC times); an end-to-end test compares a
/// webhook's data with the GET answer field for field.
/// </summary>
public static class EventJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static PendingEvent ForConnection(string type, string tenantId, ConnectionView view, DateTimeOffset now) =>
        Create(type, tenantId, view.Id, now, ConnectionJson.From(view));

    public static PendingEvent ForSession(string type, string tenantId, SessionView view, DateTimeOffset now) =>
        Create(type, tenantId, view.Id, now, SessionJson.From(view));

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
}

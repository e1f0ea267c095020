using PatientConnect.Api.Hosting;
using PatientConnect.Webhooks;

namespace PatientConnect.Api.Webhooks;

public sealed record WebhookEndpointJson(string Id, string Url, DateTime CreatedAt)
{
    public static WebhookEndpointJson From(WebhookEndpointView view) => new(view.Id, view.Url, ApiJson.Utc(view.CreatedAt));
}

/// <summary>The POST answer: the only one that shows the signing secret.</summary>
public sealed record CreatedWebhookEndpointJson(string Id, string Url, string Secret, DateTime CreatedAt);

public sealed record WebhookAttemptJson(DateTime AttemptedAt, int? StatusCode, string? Error, int DurationMs);

public sealed record WebhookDeliveryJson(
    string EventId,
    string EventType,
    string AggregateId,
    WebhookDeliveryStatus Status,
    int Attempts,
    DateTime CreatedAt,
    DateTime? NextAttemptAt,
    DateTime? LastAttemptAt,
    int? LastStatusCode,
    string? LastError,
    DateTime? DeliveredAt,
    IReadOnlyList<WebhookAttemptJson> AttemptLog)
{
    public static WebhookDeliveryJson From(WebhookDeliveryView v) => new(
        v.EventId, v.EventType, v.AggregateId, v.Status, v.Attempts, ApiJson.Utc(v.CreatedAt), ApiJson.Utc(v.NextAttemptAt),
        ApiJson.Utc(v.LastAttemptAt), v.LastStatusCode, v.LastError, ApiJson.Utc(v.DeliveredAt),
        v.AttemptLog.Select(a => new WebhookAttemptJson(ApiJson.Utc(a.AttemptedAt), a.StatusCode, a.Error, a.DurationMs)).ToList());
}

using PatientConnect.Api.Hosting;
using PatientConnect.Webhooks;

namespace PatientConnect.Api.Webhooks;

/// <summary>An endpoint as GET shows it; <c>event_types</c> null receives every type.</summary>
public sealed record WebhookEndpointJson(
    string Id, string Url, DateTime CreatedAt, IReadOnlyList<string>? EventTypes, bool Enabled, DateTime? UpdatedAt,
    DateTime? SecretRotatedAt, DateTime? PreviousSecretExpiresAt)
{
    public static WebhookEndpointJson From(WebhookEndpointView v) => new(
        v.Id, v.Url, ApiJson.Utc(v.CreatedAt), v.EventTypes, v.Enabled, ApiJson.Utc(v.UpdatedAt), ApiJson.Utc(v.SecretRotatedAt),
        ApiJson.Utc(v.PreviousSecretExpiresAt));
}

/// <summary>The POST answer: with the rotation's, the only one that shows the signing secret.</summary>
public sealed record CreatedWebhookEndpointJson(string Id, string Url, string Secret, DateTime CreatedAt, IReadOnlyList<string>? EventTypes, bool Enabled);

/// <summary>The rotation's answer: the endpoint and its new secret (shown once).</summary>
public sealed record RotatedWebhookSecretJson(
    string Id, string Url, string Secret, DateTime SecretRotatedAt, DateTime? PreviousSecretExpiresAt, IReadOnlyList<string>? EventTypes, bool Enabled);

/// <summary>What a replay queued.</summary>
public sealed record WebhookReplayJson(string EndpointId, DateTime Since, int Events);

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

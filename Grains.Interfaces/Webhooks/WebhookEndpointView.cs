namespace PatientConnect.Webhooks;

[GenerateSerializer, Immutable, Alias("pc.WebhookEndpointView")]
public sealed record WebhookEndpointView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Url,
    [property: Id(2)] DateTimeOffset CreatedAt);

/// <summary>The one answer that carries the signing secret (whsec_…): the POST that created the endpoint.</summary>
[GenerateSerializer, Immutable, Alias("pc.WebhookEndpointCreated")]
public sealed record WebhookEndpointCreated(
    [property: Id(0)] WebhookEndpointView Endpoint,
    [property: Id(1)] string Secret)
{
    public override string ToString() => $"WebhookEndpointCreated {{ Id = {Endpoint.Id} }}";
}

/// <summary>The endpoint created, or why its URL was refused (an address this service does not send to).</summary>
[GenerateSerializer, Immutable, Alias("pc.WebhookEndpointCreation")]
public sealed record WebhookEndpointCreation(
    [property: Id(0)] WebhookEndpointCreated? Created,
    [property: Id(1)] string? UrlRefused);

/// <summary>pending (waiting or retrying), delivered, failed (gave up after the retry window).</summary>
[GenerateSerializer, Alias("pc.WebhookDeliveryStatus")]
public enum WebhookDeliveryStatus { Pending, Delivered, Failed }

/// <summary>One event's delivery to one endpoint, with its attempts so far.</summary>
[GenerateSerializer, Immutable, Alias("pc.WebhookDeliveryView")]
public sealed record WebhookDeliveryView(
    [property: Id(0)] string EventId,
    [property: Id(1)] string EventType,
    [property: Id(2)] string AggregateId,
    [property: Id(3)] WebhookDeliveryStatus Status,
    [property: Id(4)] int Attempts,
    [property: Id(5)] DateTimeOffset CreatedAt,
    [property: Id(6)] DateTimeOffset? NextAttemptAt,
    [property: Id(7)] DateTimeOffset? LastAttemptAt,
    [property: Id(8)] int? LastStatusCode,
    [property: Id(9)] string? LastError,
    [property: Id(10)] DateTimeOffset? DeliveredAt,
    [property: Id(11)] IReadOnlyList<WebhookAttemptView> AttemptLog);

[GenerateSerializer, Immutable, Alias("pc.WebhookAttemptView")]
public sealed record WebhookAttemptView(
    [property: Id(0)] DateTimeOffset AttemptedAt,
    [property: Id(1)] int? StatusCode,
    [property: Id(2)] string? Error,
    [property: Id(3)] int DurationMs);

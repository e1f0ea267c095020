namespace PatientConnect.Webhooks;

/// <summary>
/// An endpoint as the list shows it (never its secret). <see cref="EventTypes"/> null means every type;
/// <see cref="PreviousSecretExpiresAt"/> is set while the secret replaced by the last rotation still signs.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.WebhookEndpointView")]
public sealed record WebhookEndpointView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Url,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] IReadOnlyList<string>? EventTypes = null,
    [property: Id(4)] bool Enabled = true,
    [property: Id(5)] DateTimeOffset? UpdatedAt = null,
    [property: Id(6)] DateTimeOffset? SecretRotatedAt = null,
    [property: Id(7)] DateTimeOffset? PreviousSecretExpiresAt = null);

/// <summary>A change to an endpoint: null leaves a field as it is; <see cref="SetEventTypes"/> says whether EventTypes (null = all) is meant.</summary>
[GenerateSerializer, Immutable, Alias("pc.WebhookEndpointChange")]
public sealed record WebhookEndpointChange(
    [property: Id(0)] bool? Enabled,
    [property: Id(1)] bool SetEventTypes,
    [property: Id(2)] IReadOnlyList<string>? EventTypes);

/// <summary>The new secret after a rotation (shown once); the old one signs too until the endpoint's PreviousSecretExpiresAt.</summary>
[GenerateSerializer, Immutable, Alias("pc.WebhookSecretRotation")]
public sealed record WebhookSecretRotation(
    [property: Id(0)] WebhookEndpointView Endpoint,
    [property: Id(1)] string Secret)
{
    public override string ToString() => $"WebhookSecretRotation {{ Id = {Endpoint.Id} }}";
}

/// <summary>What a replay queued: <see cref="Events"/> deliveries (re)opened for the endpoint.</summary>
[GenerateSerializer, Immutable, Alias("pc.WebhookReplay")]
public sealed record WebhookReplay(
    [property: Id(0)] string EndpointId,
    [property: Id(1)] DateTimeOffset Since,
    [property: Id(2)] int Events);

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

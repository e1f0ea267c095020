namespace PatientConnect.Telemetry;

/// <summary>One measurement of the cluster-wide gauges.</summary>
/// <param name="ConnectionsByStatus">Connections per status (active, failed, refresh_failed, disconnected).</param>
/// <param name="WebhooksPending">Webhook events owed to an endpoint: not yet fanned out, or neither delivered nor given up.</param>
/// <param name="OldestPendingWebhook">Age of the oldest of those (zero when none).</param>
[GenerateSerializer, Immutable, Alias("pc.ClusterGauges")]
public sealed record ClusterGauges(
    [property: Id(0)] IReadOnlyDictionary<string, long> ConnectionsByStatus,
    [property: Id(1)] long WebhooksPending,
    [property: Id(2)] TimeSpan OldestPendingWebhook,
    [property: Id(3)] DateTimeOffset MeasuredAt);

namespace PatientConnect.Grains.Webhooks;

/// <summary>
/// An event a grain has decided on but not yet handed to the outbox table. It is part of the grain's
/// state, so it is written in the same storage write as the change that caused it: the change and its
/// event are stored together or not at all. The grain then copies it into pc_webhook_outbox (idempotent
/// by <see cref="EventId"/>) and drops it from its state.
/// </summary>
[GenerateSerializer, Alias("pc.PendingEvent")]
public sealed class PendingEvent
{
    [Id(0)] public string EventId { get; set; } = "";
    [Id(1)] public string Type { get; set; } = "";
    [Id(2)] public string TenantId { get; set; } = "";
    [Id(3)] public string AggregateId { get; set; } = "";
    [Id(4)] public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The event body exactly as delivered: {id, type, created_at, data}.</summary>
    [Id(5)] public string Payload { get; set; } = "";
}

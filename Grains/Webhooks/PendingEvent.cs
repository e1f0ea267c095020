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

    // The patient history's columns (GET /v1/patients/{id}/events reads the outbox too): one source of
    // truth for the history and the webhook stream, so they cannot disagree.
    [Id(6)] public string? PatientId { get; set; }
    [Id(7)] public string? SessionId { get; set; }
    [Id(8)] public string? ConnectionId { get; set; }
    [Id(9)] public string? StatusBefore { get; set; }
    [Id(10)] public string? StatusAfter { get; set; }
    [Id(11)] public string? FailureCode { get; set; }
    [Id(12)] public string? FailureDescription { get; set; }
    /// <summary>False for history-only events (refresh succeeded, sync started): stored, never sent to endpoints.</summary>
    [Id(13)] public bool Deliver { get; set; } = true;
}

namespace PatientConnect.Retention;

/// <summary>
/// The one cluster-wide retention job (key 0): a reminder runs it on one silo at a time, whichever
/// holds the activation, so three silos never delete the same rows three times.
/// </summary>
[Alias("pc.IRetentionGrain")]
public interface IRetentionGrain : IGrainWithIntegerKey
{
    /// <summary>Registers (or re-aims) the job's reminder; every silo calls it at start, harmlessly.</summary>
    [Alias("Schedule")] Task Schedule();

    /// <summary>One pass now: what it deleted.</summary>
    [Alias("RunOnce")] Task<RetentionReport> RunOnce();
}

[GenerateSerializer, Immutable, Alias("pc.RetentionReport")]
public sealed record RetentionReport(
    [property: Id(0)] long WebhookAttempts,
    [property: Id(1)] long WebhookDeliveries,
    [property: Id(2)] long WebhookEvents,
    [property: Id(3)] long IdempotencyRecords,
    [property: Id(4)] long Sessions);

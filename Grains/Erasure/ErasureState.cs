using PatientConnect.Erasure;

namespace PatientConnect.Grains.Erasure;

/// <summary>
/// A right-to-delete job. While it runs it must know whom it erases (a resumed job picks up from here);
/// on completion <see cref="PatientId"/> and the id lists are cleared, so the job that remains holds
/// nothing of the patient.
/// </summary>
[GenerateSerializer, Alias("pc.ErasureState")]
public sealed class ErasureState
{
    [Id(0)] public string? TenantId { get; set; }
    [Id(1)] public string? PatientId { get; set; }
    [Id(2)] public ErasureStatus Status { get; set; }
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
    [Id(4)] public DateTimeOffset? CompletedAt { get; set; }
    [Id(5)] public List<string> SessionIds { get; set; } = [];
    [Id(6)] public List<string> ConnectionIds { get; set; } = [];
    /// <summary>Sessions and connections already erased (a resumed job does not count them twice).</summary>
    [Id(7)] public List<string> Done { get; set; } = [];
    [Id(8)] public ErasureCounts Counts { get; set; } = ErasureCounts.None;
    [Id(9)] public int Attempts { get; set; }
    [Id(10)] public string? LastError { get; set; }
    /// <summary>patient.deleted's id, chosen up front so a repeated append stores it once.</summary>
    [Id(11)] public string EventId { get; set; } = "";
    [Id(12)] public bool EventStored { get; set; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool Exists => TenantId is not null;
}

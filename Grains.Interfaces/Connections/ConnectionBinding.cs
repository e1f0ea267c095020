namespace PatientConnect.Connections;

/// <summary>Whose connection this is; fixed at first use.</summary>
[GenerateSerializer, Immutable, Alias("pc.ConnectionBinding")]
public sealed record ConnectionBinding(
    [property: Id(0)] string TenantId,
    [property: Id(1)] string PatientId,
    [property: Id(2)] string SourceId);

namespace PatientConnect.Records;

[GenerateSerializer, Immutable, Alias("pc.RecordQuery")]
public sealed record RecordQuery(
    [property: Id(0)] string TenantId,
    [property: Id(1)] string PatientId,
    [property: Id(2)] string? ResourceType,
    [property: Id(3)] string? ConnectionId,
    [property: Id(4)] DateTimeOffset? Since,
    [property: Id(5)] int Limit,
    [property: Id(6)] string? Cursor);

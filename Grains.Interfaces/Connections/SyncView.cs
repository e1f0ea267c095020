namespace PatientConnect.Connections;

[GenerateSerializer, Immutable, Alias("pc.SyncView")]
public sealed record SyncView(
    [property: Id(0)] SyncStatus Status,
    [property: Id(1)] long ResourcesFetched,
    [property: Id(2)] DateTimeOffset? StartedAt,
    [property: Id(3)] DateTimeOffset? CompletedAt,
    [property: Id(4)] string? Error)
{
    public static SyncView Pending { get; } = new(SyncStatus.Pending, 0, null, null, null);
}

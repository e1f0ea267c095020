namespace PatientConnect.Connections;

[GenerateSerializer, Immutable, Alias("pc.SyncView")]
public sealed record SyncView(
    [property: Id(0)] SyncStatus Status,
    [property: Id(1)] long ResourcesFetched,
    [property: Id(2)] DateTimeOffset? StartedAt,
    [property: Id(3)] DateTimeOffset? CompletedAt,
    [property: Id(4)] string? Error,
    // Stored records of the connection per resourceType (while running: fetched so far in this run).
    [property: Id(5)] IReadOnlyDictionary<string, long>? Counts = null,
    // Searches skipped without failing the sync (a 400 or 403 on one type, an oversized attachment…).
    [property: Id(6)] IReadOnlyList<string>? Notes = null)
{
    public static SyncView Pending { get; } = new(SyncStatus.Pending, 0, null, null, null);
}

namespace PatientConnect.Erasure;

/// <summary>What a connection's erasure did at the source.</summary>
[GenerateSerializer, Immutable, Alias("pc.ConnectionErasure")]
public sealed record ConnectionErasure(
    [property: Id(0)] bool Existed,
    [property: Id(1)] bool Revoked,
    [property: Id(2)] string? RevocationError);

/// <summary>The ids a patient's erasure works through.</summary>
[GenerateSerializer, Immutable, Alias("pc.PatientFootprint")]
public sealed record PatientFootprint(
    [property: Id(0)] IReadOnlyList<string> SessionIds,
    [property: Id(1)] IReadOnlyList<string> ConnectionIds);

/// <summary>running → completed. A failed step leaves it running (with last_error); its reminder resumes it until it completes.</summary>
[GenerateSerializer, Alias("pc.ErasureStatus")]
public enum ErasureStatus { Running, Completed }

/// <summary>How much an erasure removed.</summary>
[GenerateSerializer, Immutable, Alias("pc.ErasureCounts")]
public sealed record ErasureCounts(
    [property: Id(0)] int Connections,
    [property: Id(1)] int ConnectionsRevoked,
    [property: Id(2)] int Sessions,
    [property: Id(3)] long Records,
    [property: Id(4)] long Events,
    [property: Id(5)] long IdempotencyRecords)
{
    public static readonly ErasureCounts None = new(0, 0, 0, 0, 0, 0);
}

/// <summary>
/// A patient erasure job as GET /v1/patient-deletions/{id} shows it. It names no patient: the app
/// correlates by the id it got from the DELETE, so nothing of the patient is left once it completes.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.ErasureJobView")]
public sealed record ErasureJobView(
    [property: Id(0)] string Id,
    [property: Id(1)] ErasureStatus Status,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] DateTimeOffset? CompletedAt,
    [property: Id(4)] ErasureCounts Counts,
    [property: Id(5)] int Attempts,
    [property: Id(6)] string? LastError);

namespace PatientConnect.Idempotency;

/// <summary>The first answer to a POST with an Idempotency-Key, replayed for 24 h.</summary>
[GenerateSerializer, Immutable, Alias("pc.IdempotentResponse")]
public sealed record IdempotentResponse(
    [property: Id(0)] string RequestHash,
    [property: Id(1)] int StatusCode,
    [property: Id(2)] string BodyJson,
    [property: Id(3)] string? Location,
    [property: Id(4)] DateTimeOffset CreatedAt);

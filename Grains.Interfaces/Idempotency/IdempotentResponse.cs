namespace PatientConnect.Idempotency;

/// <summary>
/// The first answer to a POST with an Idempotency-Key, replayed for 24 h: what it created, or (with
/// <see cref="Refusal"/>) the problem details of why nothing was created.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.IdempotentResponse")]
public sealed record IdempotentResponse(
    [property: Id(0)] string RequestHash,
    [property: Id(1)] int StatusCode,
    [property: Id(2)] string BodyJson,
    [property: Id(3)] string? Location,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] bool Refusal = false);

namespace PatientConnect.Sessions;

/// <summary>
/// A validated request to open a session. The Api checks shapes (400 naming the field); the
/// patient grain checks that referenced sources exist.
/// <see cref="SessionId"/> is chosen by the caller (random, from the Api) so a call retried after a
/// silo loss finds the session its first attempt created instead of making a second one;
/// <see cref="CreatedAt"/> is set by the patient grain so its index and the session agree on the times.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.CreateSession")]
public sealed record CreateSession(
    [property: Id(0)] string TenantId,
    [property: Id(1)] string PatientId,
    [property: Id(2)] string ReturnUrl,
    [property: Id(3)] string? SourceId,
    [property: Id(4)] IReadOnlyList<string> RecommendedSourceIds,
    [property: Id(5)] TimeSpan ExpiresIn,
    [property: Id(6)] string MetadataJson,
    [property: Id(7)] string? SessionId = null,
    [property: Id(8)] DateTimeOffset? CreatedAt = null,
    [property: Id(9)] PatientHints? Hints = null);

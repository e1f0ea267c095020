namespace PatientConnect.Sessions;

/// <summary>
/// A validated request to open a session. The Api checks shapes (400 naming the field); the
/// patient grain checks that referenced sources exist.
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
    [property: Id(7)] PatientHints? Hints = null);

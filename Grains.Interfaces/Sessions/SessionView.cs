namespace PatientConnect.Sessions;

/// <summary>The session object exactly as GET /v1/patient-sessions/{id} returns it.</summary>
[GenerateSerializer, Immutable, Alias("pc.SessionView")]
public sealed record SessionView(
    [property: Id(0)] string Id,
    [property: Id(1)] string PatientId,
    [property: Id(2)] SessionStatus Status,
    [property: Id(3)] string Url,
    [property: Id(4)] string ReturnUrl,
    [property: Id(5)] string? SourceId,
    [property: Id(6)] string? ConnectionId,
    [property: Id(7)] Connections.ConnectionStatus? ConnectionStatus,
    [property: Id(8)] string? Error,
    [property: Id(9)] string? ErrorDescription,
    /// <summary>The app's metadata as raw JSON text (an object), returned as given.</summary>
    [property: Id(10)] string MetadataJson,
    [property: Id(11)] DateTimeOffset CreatedAt,
    [property: Id(12)] DateTimeOffset ExpiresAt,
    [property: Id(13)] DateTimeOffset? CompletedAt,
    [property: Id(14)] IReadOnlyList<string> RecommendedSourceIds,
    /// <summary>The app's optional hints for the hosted page (patient_zip, patient_state, locale), as given.</summary>
    [property: Id(15)] PatientHints? Hints = null);

namespace PatientConnect.Connections;

/// <summary>The connection object as GET /v1/connections/{id} returns it. Never carries tokens.</summary>
[GenerateSerializer, Immutable, Alias("pc.ConnectionView")]
public sealed record ConnectionView(
    [property: Id(0)] string Id,
    [property: Id(1)] string PatientId,
    [property: Id(2)] string SourceId,
    [property: Id(3)] ConnectionStatus Status,
    [property: Id(4)] string? FailureCode,
    [property: Id(5)] string? FailureDescription,
    [property: Id(6)] IReadOnlyList<string> Scopes,
    [property: Id(7)] string? FhirPatientId,
    [property: Id(8)] DateTimeOffset? ConnectedAt,
    [property: Id(9)] DateTimeOffset? LastRefreshedAt,
    [property: Id(10)] DateTimeOffset? AccessExpiresAt,
    [property: Id(11)] SyncView Sync,
    [property: Id(12)] DateTimeOffset CreatedAt,
    [property: Id(13)] DateTimeOffset UpdatedAt,
    [property: Id(14)] DateTimeOffset? AuthorizationExpiresAt = null);

namespace PatientConnect.Patients;

/// <summary>
/// One entry of a patient's history: a webhook event (or a history-only one) with the facts support
/// staff look for. <see cref="DataJson"/> is the event's data as delivered (the session or connection
/// object as GET returned it then).
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.PatientEvent")]
public sealed record PatientEvent(
    [property: Id(0)] string Id,
    [property: Id(1)] string Type,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] string? PatientSessionId,
    [property: Id(4)] string? ConnectionId,
    [property: Id(5)] string? StatusBefore,
    [property: Id(6)] string? StatusAfter,
    [property: Id(7)] string? FailureCode,
    [property: Id(8)] string? FailureDescription,
    [property: Id(9)] bool Delivered,
    [property: Id(10)] string DataJson);

/// <summary>GET /v1/patients/{patient_id}/events: newest first, optionally of some types and since a time.</summary>
[GenerateSerializer, Immutable, Alias("pc.PatientEventQuery")]
public sealed record PatientEventQuery(
    [property: Id(0)] string TenantId,
    [property: Id(1)] string PatientId,
    [property: Id(2)] IReadOnlyList<string>? Types,
    [property: Id(3)] DateTimeOffset? Since,
    [property: Id(4)] int Limit,
    [property: Id(5)] string? Cursor);

namespace PatientConnect.Sessions;

[GenerateSerializer, Immutable, Alias("pc.SessionListQuery")]
public sealed record SessionListQuery(
    [property: Id(0)] SessionStatus? Status,
    [property: Id(1)] int Limit,
    [property: Id(2)] string? Cursor);

namespace PatientConnect.Sessions;

/// <summary>Either the new session, or the name of the field that was refused and why.</summary>
[GenerateSerializer, Immutable, Alias("pc.CreateSessionResult")]
public sealed record CreateSessionResult(
    [property: Id(0)] SessionView? Session,
    [property: Id(1)] string? InvalidField,
    [property: Id(2)] string? Error);

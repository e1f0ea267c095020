namespace PatientConnect.Sources;

[GenerateSerializer, Immutable, Alias("pc.SourceQuery")]
public sealed record SourceQuery(
    [property: Id(0)] string? Q,
    [property: Id(1)] string? City,
    [property: Id(2)] string? State,
    [property: Id(3)] string? Zip,
    [property: Id(4)] string? Vendor,
    [property: Id(5)] int Limit,
    [property: Id(6)] string? Cursor,
    /// <summary>Only sources a patient can connect today (the hosted page, when the operator hides the rest).</summary>
    [property: Id(7)] bool ConnectableOnly = false);

namespace PatientConnect.Sessions;

/// <summary>
/// What the app may tell the hosted page about its patient, all optional: where they live (a US ZIP
/// code or state, to suggest sources nearby when nothing is typed yet) and the language of the pages.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.PatientHints")]
public sealed record PatientHints(
    [property: Id(0)] string? Zip,
    [property: Id(1)] string? State,
    /// <summary>"en" or "es"; null lets the browser's Accept-Language decide.</summary>
    [property: Id(2)] string? Locale);

namespace PatientConnect.Sessions;

/// <summary>
/// The answer to "take the patient to this source": a redirect to the EHR's authorize URL, or a
/// refusal the page shows (expired or finished session, unknown or unconnectable source, EHR
/// discovery failure) with a link back to the app.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.ConnectStep")]
public sealed record ConnectStep(
    [property: Id(0)] string? AuthorizeUrl,
    [property: Id(1)] string? ErrorCode,
    [property: Id(2)] string? ErrorMessage,
    [property: Id(3)] string? ReturnLink);

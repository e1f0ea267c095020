namespace PatientConnect.Sessions;

/// <summary>
/// Where the patient goes after the callback: back to the app (<see cref="RedirectUrl"/>, with
/// success or error parameters), or, when the state is unknown, tampered or already used, an
/// error page with <see cref="ErrorMessage"/> and no redirect.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.CallbackOutcome")]
public sealed record CallbackOutcome(
    [property: Id(0)] string? RedirectUrl,
    [property: Id(1)] string? ErrorCode,
    [property: Id(2)] string? ErrorMessage);

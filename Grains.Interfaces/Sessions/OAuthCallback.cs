namespace PatientConnect.Sessions;

/// <summary>The query of GET /oauth/callback, as the EHR sent it.</summary>
[GenerateSerializer, Immutable, Alias("pc.OAuthCallback")]
public sealed record OAuthCallback(
    [property: Id(0)] string State,
    [property: Id(1)] string? Code,
    [property: Id(2)] string? Error,
    [property: Id(3)] string? ErrorDescription);

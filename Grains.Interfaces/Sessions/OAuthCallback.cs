namespace PatientConnect.Sessions;

/// <summary>The query of GET /oauth/callback, as the EHR sent it.</summary>
[GenerateSerializer, Immutable, Alias("pc.OAuthCallback")]
public sealed record OAuthCallback(
    [property: Id(0)] string State,
    [property: Id(1)] string? Code,
    [property: Id(2)] string? Error,
    [property: Id(3)] string? ErrorDescription)
{
    // State and code are live credentials until used: never in a log line that prints the record.
    public override string ToString() => $"OAuthCallback {{ HasCode = {Code is not null}, Error = {Error} }}";
}

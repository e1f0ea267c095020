namespace PatientConnect.Connections;

/// <summary>
/// A live access token and where it may be sent, lent to the sync inside the cluster. The token
/// must only ever be sent to <see cref="FhirBaseUrl"/>; it is never stored or logged by the borrower.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.AccessLease")]
public sealed record AccessLease(
    [property: Id(0)] string AccessToken,
    [property: Id(1)] DateTimeOffset ExpiresAt,
    [property: Id(2)] string FhirBaseUrl,
    [property: Id(3)] string FhirPatientId,
    [property: Id(4)] IReadOnlyList<string> Scopes,
    [property: Id(5)] string TenantId,
    [property: Id(6)] string PatientId,
    [property: Id(7)] string SourceId)
{
    public override string ToString() => $"AccessLease {{ Source = {SourceId}, ExpiresAt = {ExpiresAt:O} }}";
}

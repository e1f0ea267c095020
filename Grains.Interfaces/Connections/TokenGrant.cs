namespace PatientConnect.Connections;

/// <summary>
/// What a token endpoint granted. Plain text only while in flight between two grains of the same
/// cluster; the connection grain encrypts the tokens before they are written anywhere.
/// <see cref="GrantId"/> names the authorization that produced it (session and OAuth state), so the
/// connection applies one grant once however often a recovering callback hands it over.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.TokenGrant")]
public sealed record TokenGrant(
    [property: Id(0)] string AccessToken,
    [property: Id(1)] string? RefreshToken,
    [property: Id(2)] DateTimeOffset AccessExpiresAt,
    [property: Id(3)] IReadOnlyList<string> Scopes,
    [property: Id(4)] string? FhirPatientId,
    [property: Id(5)] string? GrantId = null,
    // When the refresh token stops working, from the token response's refresh_token_expires_in (null: not announced).
    [property: Id(6)] DateTimeOffset? RefreshExpiresAt = null)
{
    // Keep tokens out of any log line or exception message that prints the record.
    public override string ToString() =>
        $"TokenGrant {{ AccessExpiresAt = {AccessExpiresAt:O}, Scopes = {Scopes.Count}, HasRefresh = {RefreshToken is not null} }}";
}

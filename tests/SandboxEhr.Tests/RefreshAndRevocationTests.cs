using System.Net;
using static SandboxEhr.Tests.AuthTestSupport;

namespace SandboxEhr.Tests;

public sealed class RefreshAndRevocationTests(SandboxProcess sandbox)
{
    [Fact]
    public async Task Epic_profile_keeps_the_refresh_token_across_refreshes()
    {
        var token = await sandbox.ConnectAsync("riverside");

        var first = await SandboxProcess.ReadTokenAsync(await sandbox.RefreshAsync("riverside", token.RefreshToken!));
        var second = await SandboxProcess.ReadTokenAsync(await sandbox.RefreshAsync("riverside", token.RefreshToken!));

        Assert.Null(first.RefreshToken);
        Assert.Null(second.RefreshToken);
        Assert.NotEqual(token.AccessToken, first.AccessToken);
        Assert.NotEqual(first.AccessToken, second.AccessToken);
        Assert.Equal(token.Patient, second.Patient);
        Assert.Equal(token.Scope, second.Scope);
        Assert.True(await sandbox.IsActiveAsync("riverside", second.AccessToken));
    }

    [Fact]
    public async Task Cerner_profile_rotates_refresh_tokens_and_refuses_the_spent_one()
    {
        var token = await sandbox.ConnectAsync("lakeside");

        var rotated = await SandboxProcess.ReadTokenAsync(await sandbox.RefreshAsync("lakeside", token.RefreshToken!));
        Assert.False(string.IsNullOrEmpty(rotated.RefreshToken));
        Assert.NotEqual(token.RefreshToken, rotated.RefreshToken);
        Assert.Equal(570, rotated.ExpiresIn);

        using var spent = await sandbox.RefreshAsync("lakeside", token.RefreshToken!);
        await AssertOAuthError(spent, HttpStatusCode.BadRequest, "invalid_grant");

        var again = await SandboxProcess.ReadTokenAsync(await sandbox.RefreshAsync("lakeside", rotated.RefreshToken!));
        Assert.NotEqual(rotated.RefreshToken, again.RefreshToken);
    }

    [Fact]
    public async Task Refresh_may_narrow_the_scope_but_not_widen_it()
    {
        var token = await sandbox.ConnectAsync("riverside", scope: "offline_access patient/Observation.read patient/Condition.read");

        var narrowed = await SandboxProcess.ReadTokenAsync(
            await sandbox.RefreshAsync("riverside", token.RefreshToken!, scope: "patient/Observation.read"));
        Assert.Equal("patient/Observation.read", narrowed.Scope);

        using var widened = await sandbox.RefreshAsync("riverside", token.RefreshToken!, scope: "patient/Observation.read patient/Patient.read");
        await AssertOAuthError(widened, HttpStatusCode.BadRequest, "invalid_scope");
    }

    [Fact]
    public async Task Refresh_token_belongs_to_its_client()
    {
        var token = await sandbox.ConnectAsync("riverside");
        using var response = await sandbox.RefreshAsync("riverside", token.RefreshToken!, SandboxProcess.ConfidentialClient);
        await AssertOAuthError(response, HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task Revoked_access_token_is_no_longer_accepted()
    {
        var token = await sandbox.ConnectAsync("riverside");
        Assert.True(await sandbox.IsActiveAsync("riverside", token.AccessToken));
        var fhirUrl = $"{sandbox.FhirBase("riverside")}/Patient/{token.Patient}";
        Assert.Equal(HttpStatusCode.OK, await FhirReadStatus(fhirUrl, token.AccessToken));

        using var revoke = await sandbox.RevokeAsync("riverside", token.AccessToken);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);

        Assert.False(await sandbox.IsActiveAsync("riverside", token.AccessToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await FhirReadStatus(fhirUrl, token.AccessToken));
        // Revoking an access token leaves the refresh token alone.
        using var refresh = await sandbox.RefreshAsync("riverside", token.RefreshToken!);
        Assert.Equal(HttpStatusCode.OK, refresh.StatusCode);
    }

    [Fact]
    public async Task Revoked_refresh_token_gives_invalid_grant_and_ends_its_access_tokens()
    {
        var token = await sandbox.ConnectAsync("lakeside");

        using var revoke = await sandbox.RevokeAsync("lakeside", token.RefreshToken!);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);

        using var refresh = await sandbox.RefreshAsync("lakeside", token.RefreshToken!);
        await AssertOAuthError(refresh, HttpStatusCode.BadRequest, "invalid_grant");
        Assert.False(await sandbox.IsActiveAsync("lakeside", token.AccessToken));
    }

    [Fact]
    public async Task Revoking_an_unknown_token_is_still_200()
    {
        using var response = await sandbox.RevokeAsync("riverside", "not-a-token");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Another_client_cannot_revoke_a_token()
    {
        var token = await sandbox.ConnectAsync("riverside");
        using var response = await sandbox.RevokeAsync("riverside", token.AccessToken, SandboxProcess.ConfidentialClient);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await sandbox.IsActiveAsync("riverside", token.AccessToken));
    }

    private async Task<HttpStatusCode> FhirReadStatus(string url, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new("Bearer", accessToken);
        request.Headers.Accept.ParseAdd("application/fhir+json");
        using var response = await sandbox.HttpClient.SendAsync(request, Ct);
        return response.StatusCode;
    }
}

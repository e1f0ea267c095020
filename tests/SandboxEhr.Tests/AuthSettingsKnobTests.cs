using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static SandboxEhr.Tests.AuthTestSupport;

namespace SandboxEhr.Tests;

/// <summary>The authorization-side knobs of PUT /hospitals/{id}/settings, on a sandbox of their own.</summary>
public sealed class AuthSettingsKnobTests(IsolatedSandbox sandbox) : IClassFixture<IsolatedSandbox>, IAsyncLifetime
{
    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var hospital in new[] { "riverside", "lakeside", "summit" })
            await sandbox.ResetSettingsAsync(hospital);
    }

    [Fact]
    public async Task Refresh_knob_invalid_grant_refuses_every_refresh_until_set_back_to_ok()
    {
        var token = await sandbox.ConnectAsync("riverside");

        await sandbox.SetSettingsAsync("riverside", new { refresh = "invalid_grant" });
        using var refused = await sandbox.RefreshAsync("riverside", token.RefreshToken!);
        await AssertOAuthError(refused, HttpStatusCode.BadRequest, "invalid_grant");

        await sandbox.SetSettingsAsync("riverside", new { refresh = "ok" });
        using var accepted = await sandbox.RefreshAsync("riverside", token.RefreshToken!);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Access_token_lifetime_knob_sets_expires_in_and_the_token_dies_on_time()
    {
        var before = await sandbox.ConnectAsync("lakeside");
        Assert.Equal(570, before.ExpiresIn);

        var settings = await sandbox.SetSettingsAsync("lakeside", new { access_token_lifetime_seconds = 2 });
        Assert.Equal(2, settings.GetProperty("access_token_lifetime_seconds").GetInt32());

        var token = await sandbox.ConnectAsync("lakeside");
        Assert.Equal(2, token.ExpiresIn);
        Assert.True(await sandbox.IsActiveAsync("lakeside", token.AccessToken));
        var refreshed = await SandboxProcess.ReadTokenAsync(await sandbox.RefreshAsync("lakeside", token.RefreshToken!));
        Assert.Equal(2, refreshed.ExpiresIn);

        var patientUrl = $"{sandbox.FhirBase("lakeside")}/Patient/{token.Patient}";
        Assert.Equal(HttpStatusCode.OK, await FhirReadStatus(patientUrl, token.AccessToken));

        await Task.Delay(TimeSpan.FromSeconds(2.5), Ct);
        Assert.False(await sandbox.IsActiveAsync("lakeside", token.AccessToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await FhirReadStatus(patientUrl, token.AccessToken));
        // Tokens issued before the change keep the lifetime they were issued with.
        Assert.True(await sandbox.IsActiveAsync("lakeside", before.AccessToken));
    }

    [Fact]
    public async Task Refresh_token_lifetime_knob_announces_refresh_token_expires_in_and_the_refresh_token_dies_on_time()
    {
        var unlimited = await sandbox.ConnectAsync("lakeside");
        Assert.NotNull(unlimited.RefreshToken);
        Assert.Null(unlimited.RefreshTokenExpiresIn);

        var settings = await sandbox.SetSettingsAsync("lakeside", new { refresh_token_lifetime_seconds = 3 });
        Assert.Equal(3, settings.GetProperty("refresh_token_lifetime_seconds").GetInt32());
        var token = await sandbox.ConnectAsync("lakeside");
        Assert.InRange(token.RefreshTokenExpiresIn ?? -1, 2, 3);

        // Lakeside rotates refresh tokens: the new one ends with the authorization, not later.
        var rotated = await SandboxProcess.ReadTokenAsync(await sandbox.RefreshAsync("lakeside", token.RefreshToken!));
        Assert.NotNull(rotated.RefreshToken);
        Assert.InRange(rotated.RefreshTokenExpiresIn ?? -1, 0, 3);

        await Task.Delay(TimeSpan.FromSeconds(3.5), Ct);
        using var expired = await sandbox.RefreshAsync("lakeside", rotated.RefreshToken!);
        var error = await AssertOAuthError(expired, HttpStatusCode.BadRequest, "invalid_grant");
        Assert.Contains("expired", error.GetProperty("error_description").GetString());
        // Authorizations granted before the change keep refresh tokens without an end.
        using var old = await sandbox.RefreshAsync("lakeside", unlimited.RefreshToken!);
        Assert.Equal(HttpStatusCode.OK, old.StatusCode);

        settings = await sandbox.SetSettingsAsync("lakeside", new { refresh_token_lifetime_seconds = (int?)null });
        Assert.Equal(JsonValueKind.Null, settings.GetProperty("refresh_token_lifetime_seconds").ValueKind);
    }

    [Fact]
    public async Task Expired_authorization_code_is_invalid_grant()
    {
        await sandbox.SetSettingsAsync("summit", new { authorization_code_lifetime_seconds = 1 });
        var authorization = await sandbox.AuthorizeAsync("summit");
        Assert.NotNull(authorization.Code);

        await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
        using var response = await sandbox.RedeemCodeAsync("summit", authorization);
        var error = await AssertOAuthError(response, HttpStatusCode.BadRequest, "invalid_grant");
        Assert.Contains("expired", error.GetProperty("error_description").GetString());
    }

    [Fact]
    public async Task Settings_are_read_partially_updated_and_reset()
    {
        var defaults = await sandbox.GetJson("/hospitals/summit/settings");
        Assert.Equal(3600, defaults.GetProperty("access_token_lifetime_seconds").GetInt32());
        Assert.Equal("ok", defaults.GetProperty("refresh").GetString());
        Assert.Equal(60, defaults.GetProperty("authorization_code_lifetime_seconds").GetInt32());
        Assert.Equal(JsonValueKind.Null, defaults.GetProperty("page_size").ValueKind);

        var changed = await sandbox.SetSettingsAsync("summit", new { latency_ms = 5, page_size = 7 });
        Assert.Equal(5, changed.GetProperty("latency_ms").GetInt32());
        Assert.Equal(7, changed.GetProperty("page_size").GetInt32());
        Assert.Equal(3600, changed.GetProperty("access_token_lifetime_seconds").GetInt32());
        Assert.Equal(7, (await sandbox.GetJson("/hospitals/summit/settings")).GetProperty("page_size").GetInt32());

        await sandbox.ResetSettingsAsync("summit");
        Assert.Equal(JsonValueKind.Null, (await sandbox.GetJson("/hospitals/summit/settings")).GetProperty("page_size").ValueKind);
    }

    [Theory]
    [InlineData("""{"access_token_lifetime_seconds": 0}""")]
    [InlineData("""{"access_token_lifetime_seconds": "60"}""")]
    [InlineData("""{"refresh": "sometimes"}""")]
    [InlineData("""{"error_rate": 1.5}""")]
    [InlineData("""{"rate_limit_every_n": -1}""")]
    [InlineData("""{"latency_ms": 600000}""")]
    [InlineData("""{"page_size": 0}""")]
    [InlineData("""{"no_such_knob": 1}""")]
    [InlineData("""{"latency_ms": 10, "refresh": "bad"}""")]
    [InlineData("""[1, 2]""")]
    [InlineData("""not json""")]
    public async Task Bad_settings_are_400_and_change_nothing(string body)
    {
        var before = (await sandbox.GetJson("/hospitals/riverside/settings")).GetRawText();
        using var response = await sandbox.HttpClient.PutAsync("/hospitals/riverside/settings",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before, (await sandbox.GetJson("/hospitals/riverside/settings")).GetRawText());
    }

    private async Task<HttpStatusCode> FhirReadStatus(string url, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new("Bearer", accessToken);
        using var response = await sandbox.HttpClient.SendAsync(request, Ct);
        return response.StatusCode;
    }

    [Fact]
    public async Task Settings_of_an_unknown_hospital_are_404()
    {
        using var response = await sandbox.HttpClient.PutAsJsonAsync("/hospitals/nowhere/settings", new { latency_ms = 1 }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

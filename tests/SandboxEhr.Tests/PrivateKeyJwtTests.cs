using System.Net;
using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using static SandboxEhr.Tests.AuthTestSupport;

namespace SandboxEhr.Tests;

public sealed class PrivateKeyJwtTests(SandboxProcess sandbox)
{
    private string TokenEndpoint => $"{sandbox.AuthBase("riverside")}/token";

    private async Task<HttpResponseMessage> RedeemWithAssertion(string assertion)
    {
        var authorization = await sandbox.AuthorizeAsync("riverside", SandboxProcess.JwtClient);
        Assert.NotNull(authorization.Code);
        using var request = new HttpRequestMessage(HttpMethod.Post, TokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["code"] = authorization.Code,
                ["redirect_uri"] = authorization.RedirectUri,
                ["code_verifier"] = authorization.CodeVerifier,
                ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ["client_assertion"] = assertion,
            }),
        };
        return await sandbox.HttpClient.SendAsync(request, Ct);
    }

    [Fact]
    public async Task Rs384_assertion_signed_with_the_registered_key_gets_tokens()
    {
        using var response = await RedeemWithAssertion(JwtClientKeys.Assertion(SandboxProcess.JwtClient, TokenEndpoint));
        var token = await SandboxProcess.ReadTokenAsync(response);
        Assert.True(await sandbox.IsActiveAsync("riverside", token.AccessToken));
    }

    [Fact]
    public async Task Es384_assertion_signed_with_the_registered_key_gets_tokens()
    {
        using var response = await RedeemWithAssertion(
            JwtClientKeys.Assertion(SandboxProcess.JwtClient, TokenEndpoint, JwtClientKeys.EcCredentials));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Forged_signature_with_the_same_kid_is_invalid_client()
    {
        using var forger = RSA.Create(2048);
        var forged = new SigningCredentials(new RsaSecurityKey(forger) { KeyId = JwtClientKeys.RsaKeyId }, SecurityAlgorithms.RsaSha384);
        using var response = await RedeemWithAssertion(JwtClientKeys.Assertion(SandboxProcess.JwtClient, TokenEndpoint, forged));
        await AssertOAuthError(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Reused_jti_is_invalid_client()
    {
        var assertion = JwtClientKeys.Assertion(SandboxProcess.JwtClient, TokenEndpoint);
        using var first = await RedeemWithAssertion(assertion);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using var replay = await RedeemWithAssertion(assertion);
        await AssertOAuthError(replay, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Assertion_for_another_audience_is_invalid_client()
    {
        using var response = await RedeemWithAssertion(
            JwtClientKeys.Assertion(SandboxProcess.JwtClient, $"{sandbox.AuthBase("lakeside")}/token"));
        await AssertOAuthError(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Assertion_whose_sub_is_not_the_client_is_invalid_client()
    {
        using var response = await RedeemWithAssertion(
            JwtClientKeys.Assertion(SandboxProcess.JwtClient, TokenEndpoint, subject: "someone-else"));
        await AssertOAuthError(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Assertion_living_longer_than_five_minutes_is_invalid_client()
    {
        using var response = await RedeemWithAssertion(
            JwtClientKeys.Assertion(SandboxProcess.JwtClient, TokenEndpoint, lifetime: TimeSpan.FromHours(1)));
        await AssertOAuthError(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Rs256_assertion_is_refused_because_only_RS384_and_ES384_are_accepted()
    {
        var rs256 = new SigningCredentials(new RsaSecurityKey(JwtClientKeys.Rsa) { KeyId = JwtClientKeys.RsaKeyId }, SecurityAlgorithms.RsaSha256);
        using var response = await RedeemWithAssertion(JwtClientKeys.Assertion(SandboxProcess.JwtClient, TokenEndpoint, rs256));
        await AssertOAuthError(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Connect_helper_authenticates_the_jwt_client_for_code_and_refresh()
    {
        var token = await sandbox.ConnectAsync("lakeside", SandboxProcess.JwtClient);
        var refreshed = await SandboxProcess.ReadTokenAsync(
            await sandbox.RefreshAsync("lakeside", token.RefreshToken!, SandboxProcess.JwtClient));
        Assert.True(await sandbox.IsActiveAsync("lakeside", refreshed.AccessToken));
    }
}

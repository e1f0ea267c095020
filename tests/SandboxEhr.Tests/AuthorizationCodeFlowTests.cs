using System.Net;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static SandboxEhr.Tests.AuthTestSupport;

namespace SandboxEhr.Tests;

public sealed class AuthorizationCodeFlowTests(SandboxProcess sandbox)
{
    [Fact]
    public async Task Full_pkce_flow_issues_bearer_token_with_patient_refresh_token_and_signed_id_token()
    {
        var patients = await sandbox.PatientIds("riverside");

        var token = await sandbox.ConnectAsync("riverside");

        Assert.Equal("Bearer", token.TokenType);
        Assert.Equal(3600, token.ExpiresIn);
        Assert.Equal(patients[0], token.Patient);
        Assert.True(token.AccessToken.Length >= 22, "at least 128 bits of base64url");
        Assert.Equal(
            new[] { "launch/patient", "openid", "fhirUser", "offline_access", "patient/*.read" }.Order(),
            token.Scope.Split(' ').Order());
        Assert.False(string.IsNullOrEmpty(token.RefreshToken));
        Assert.True(await sandbox.IsActiveAsync("riverside", token.AccessToken));
        // A token of one hospital means nothing at another.
        Assert.False(await sandbox.IsActiveAsync("lakeside", token.AccessToken));

        var jwks = new JsonWebKeySet((await sandbox.GetJson($"{sandbox.AuthBase("riverside")}/jwks")).GetRawText());
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(token.IdToken, new TokenValidationParameters
        {
            ValidIssuer = sandbox.FhirBase("riverside"),
            ValidAudience = SandboxProcess.PublicClient,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
        });
        Assert.True(validation.IsValid, validation.Exception?.Message);
        var idToken = (JsonWebToken)validation.SecurityToken;
        Assert.Equal(patients[0], idToken.Subject);
        Assert.Equal($"Patient/{patients[0]}", idToken.GetClaim("fhirUser").Value);
    }

    [Fact]
    public async Task Scripted_consent_signs_in_the_named_patient()
    {
        var patients = await sandbox.PatientIds("summit");
        var token = await sandbox.ConnectAsync("summit", patientId: patients[1]);
        Assert.Equal(patients[1], token.Patient);
    }

    [Fact]
    public async Task Cerner_profile_grants_v2_scopes_for_a_v1_request_and_570_second_tokens()
    {
        var token = await sandbox.ConnectAsync("lakeside", scope: "launch/patient patient/Observation.read patient/Condition.rs");
        Assert.Equal(570, token.ExpiresIn);
        Assert.Equal("launch/patient patient/Observation.rs patient/Condition.rs", token.Scope);
        Assert.Null(token.RefreshToken);
        Assert.Null(token.IdToken);
    }

    [Fact]
    public async Task Epic_profile_grants_v1_scopes_and_drops_what_it_does_not_serve()
    {
        var token = await sandbox.ConnectAsync("riverside",
            scope: "patient/Observation.rs patient/Observation.write patient/Condition.r user/*.read patient/Spaceship.read patient/Coverage.read");
        Assert.Equal("patient/Observation.read", token.Scope);
    }

    [Fact]
    public async Task Payer_profile_grants_coverage_and_claims_but_not_types_it_does_not_hold()
    {
        var token = await sandbox.ConnectAsync("summit",
            scope: "patient/Coverage.read patient/ExplanationOfBenefit.read patient/DiagnosticReport.read");
        Assert.Equal("patient/Coverage.read patient/ExplanationOfBenefit.read", token.Scope);
    }

    [Fact]
    public async Task Confidential_client_gets_tokens_with_its_secret_and_401_without()
    {
        var token = await sandbox.ConnectAsync("riverside", SandboxProcess.ConfidentialClient);
        Assert.True(await sandbox.IsActiveAsync("riverside", token.AccessToken));

        var authorization = await sandbox.AuthorizeAsync("riverside", SandboxProcess.ConfidentialClient);
        using var noSecret = new HttpRequestMessage(HttpMethod.Post, $"{sandbox.AuthBase("riverside")}/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code", ["code"] = authorization.Code!, ["client_id"] = SandboxProcess.ConfidentialClient,
                ["redirect_uri"] = authorization.RedirectUri, ["code_verifier"] = authorization.CodeVerifier,
            }),
        };
        using var response = await sandbox.HttpClient.SendAsync(noSecret, Ct);
        await AssertOAuthError(response, HttpStatusCode.Unauthorized, "invalid_client");

        using var wrongSecret = new HttpRequestMessage(HttpMethod.Post, $"{sandbox.AuthBase("riverside")}/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code", ["code"] = authorization.Code!,
                ["redirect_uri"] = authorization.RedirectUri, ["code_verifier"] = authorization.CodeVerifier,
            }),
        };
        wrongSecret.Headers.Authorization = new("Basic", Convert.ToBase64String("sandbox-confidential:wrong"u8.ToArray()));
        using var wrong = await sandbox.HttpClient.SendAsync(wrongSecret, Ct);
        await AssertOAuthError(wrong, HttpStatusCode.Unauthorized, "invalid_client");
        Assert.Contains("Basic", wrong.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Wrong_code_verifier_is_invalid_grant()
    {
        var authorization = await sandbox.AuthorizeAsync("riverside");
        using var response = await sandbox.RedeemCodeAsync("riverside", authorization, codeVerifier: Pkce.NewVerifier());
        await AssertOAuthError(response, HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task Wrong_redirect_uri_is_invalid_grant()
    {
        var authorization = await sandbox.AuthorizeAsync("riverside");
        using var response = await sandbox.RedeemCodeAsync("riverside", authorization, redirectUri: "http://127.0.0.1:9/elsewhere");
        await AssertOAuthError(response, HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task Code_is_redeemable_once()
    {
        var authorization = await sandbox.AuthorizeAsync("riverside");
        using var first = await sandbox.RedeemCodeAsync("riverside", authorization);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using var replay = await sandbox.RedeemCodeAsync("riverside", authorization);
        await AssertOAuthError(replay, HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task Code_cannot_be_redeemed_by_another_client_or_at_another_hospital()
    {
        var authorization = await sandbox.AuthorizeAsync("riverside");
        using var otherClient = await sandbox.RedeemCodeAsync("riverside", authorization, clientId: SandboxProcess.ConfidentialClient);
        await AssertOAuthError(otherClient, HttpStatusCode.BadRequest, "invalid_grant");

        var second = await sandbox.AuthorizeAsync("riverside");
        using var otherHospital = await sandbox.RedeemCodeAsync("lakeside", second);
        await AssertOAuthError(otherHospital, HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task Deny_redirects_with_access_denied_and_the_state()
    {
        var authorization = await sandbox.AuthorizeAsync("riverside", consent: "deny");
        Assert.Equal(HttpStatusCode.Redirect, authorization.Status);
        Assert.StartsWith(SandboxProcess.DefaultRedirectUri, authorization.Location!.ToString());
        Assert.Equal("access_denied", authorization.Error);
        Assert.Equal(authorization.State, authorization.ReturnedState);
        Assert.Null(authorization.Code);
    }

    [Theory]
    [InlineData("code_challenge", null, "invalid_request")]
    [InlineData("code_challenge_method", "plain", "invalid_request")]
    [InlineData("aud", "http://127.0.0.1:1/hospitals/riverside/fhir", "invalid_request")]
    [InlineData("aud", null, "invalid_request")]
    [InlineData("response_type", "token", "unsupported_response_type")]
    [InlineData("scope", "openid fhirUser user/*.read", "invalid_scope")]
    [InlineData("scope", "patient/Observation.write", "invalid_scope")]
    public async Task Invalid_requests_redirect_back_with_the_oauth_error(string parameter, string? value, string error)
    {
        var authorization = await sandbox.AuthorizeAsync("riverside",
            overrides: new Dictionary<string, string?> { [parameter] = value });
        Assert.Equal(HttpStatusCode.Redirect, authorization.Status);
        Assert.StartsWith(SandboxProcess.DefaultRedirectUri, authorization.Location!.ToString());
        Assert.Equal(error, authorization.Error);
        Assert.Equal(authorization.State, authorization.ReturnedState);
        Assert.Null(authorization.Code);
    }

    [Fact]
    public async Task Unknown_patient_in_scripted_consent_is_invalid_request()
    {
        var authorization = await sandbox.AuthorizeAsync("riverside", consent: "approve; patient=no-such-patient");
        Assert.Equal("invalid_request", authorization.Error);
    }

    [Theory]
    [InlineData("sandbox-public", "https://evil.example.com/callback")]
    [InlineData("sandbox-public", "http://localhost.evil.example.com/callback")]
    [InlineData("sandbox-public", "ftp://127.0.0.1/callback")]
    [InlineData("no-such-client", "http://127.0.0.1:9/callback")]
    public async Task Bad_client_or_redirect_uri_shows_an_error_page_instead_of_redirecting(string clientId, string redirectUri)
    {
        var authorization = await sandbox.AuthorizeAsync("riverside", clientId, redirectUri: redirectUri);
        Assert.Equal(HttpStatusCode.BadRequest, authorization.Status);
        Assert.Null(authorization.Location);

        var query = $"response_type=code&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(redirectUri)}";
        using var response = await sandbox.HttpClient.GetAsync($"{sandbox.AuthBase("riverside")}/authorize?{query}", Ct);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("role=\"alert\"", await response.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData(SandboxProcess.RegisteredRedirectUri, HttpStatusCode.Redirect)]
    [InlineData(SandboxProcess.RegisteredRedirectUri + "/", HttpStatusCode.BadRequest)]
    [InlineData("https://app.example.test/oauth/callback?next=1", HttpStatusCode.BadRequest)]
    [InlineData(SandboxProcess.DefaultRedirectUri, HttpStatusCode.BadRequest)]
    public async Task Configured_redirect_uris_must_match_exactly(string redirectUri, HttpStatusCode expected)
    {
        var authorization = await sandbox.AuthorizeAsync("riverside", SandboxProcess.RegisteredRedirectClient, redirectUri: redirectUri);
        Assert.Equal(expected, authorization.Status);
        if (expected == HttpStatusCode.Redirect)
        {
            Assert.StartsWith(SandboxProcess.RegisteredRedirectUri + "?code=", authorization.Location!.ToString());
            using var response = await sandbox.RedeemCodeAsync("riverside", authorization);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Localhost_redirect_uris_are_accepted_for_the_default_clients()
    {
        var authorization = await sandbox.AuthorizeAsync("riverside", redirectUri: "http://localhost:5000/oauth/callback?x=1");
        Assert.NotNull(authorization.Code);
        Assert.StartsWith("http://localhost:5000/oauth/callback?x=1&code=", authorization.Location!.ToString());
        using var response = await sandbox.RedeemCodeAsync("riverside", authorization);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Without_consent_header_the_login_and_consent_page_is_served_as_utf8_html()
    {
        var authorization = await sandbox.AuthorizeAsync("riverside", consent: null);
        Assert.Equal(HttpStatusCode.OK, authorization.Status);

        var query = string.Join('&', new Dictionary<string, string>
        {
            ["response_type"] = "code", ["client_id"] = "sandbox-public", ["redirect_uri"] = SandboxProcess.DefaultRedirectUri,
            ["scope"] = "launch/patient patient/Observation.read", ["state"] = "s1", ["aud"] = sandbox.FhirBase("riverside"),
            ["code_challenge"] = Pkce.Challenge(Pkce.NewVerifier()), ["code_challenge_method"] = "S256",
        }.Select(kv => $"{kv.Key}={Uri.EscapeDataString(kv.Value)}"));
        using var response = await sandbox.HttpClient.GetAsync($"{sandbox.AuthBase("riverside")}/authorize?{query}", Ct);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("<meta charset=\"utf-8\">", html);
        Assert.Contains("patient/Observation.read", html);
        Assert.Contains("value=\"approve\"", html);
        Assert.Contains("value=\"deny\"", html);
        foreach (var patient in await sandbox.PatientIds("riverside"))
            Assert.Contains($"value=\"{patient}\"", html);
    }

    [Fact]
    public async Task Posting_the_consent_form_approves_like_the_browser_does()
    {
        var patients = await sandbox.PatientIds("riverside");
        var verifier = Pkce.NewVerifier();
        var form = new Dictionary<string, string>
        {
            ["response_type"] = "code", ["client_id"] = "sandbox-public", ["redirect_uri"] = SandboxProcess.DefaultRedirectUri,
            ["scope"] = "launch/patient patient/*.read", ["state"] = "s2", ["aud"] = sandbox.FhirBase("riverside"),
            ["code_challenge"] = Pkce.Challenge(verifier), ["code_challenge_method"] = "S256",
            ["patient"] = patients[2], ["decision"] = "approve",
        };
        using var response = await sandbox.HttpClient.PostAsync($"{sandbox.AuthBase("riverside")}/authorize",
            new FormUrlEncodedContent(form), Ct);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var returned = System.Web.HttpUtility.ParseQueryString(response.Headers.Location!.Query);
        Assert.Equal("s2", returned["state"]);

        var authorization = new AuthorizationResult(response.StatusCode, response.Headers.Location, returned["code"], null, "s2",
            "s2", verifier, SandboxProcess.DefaultRedirectUri, SandboxProcess.PublicClient);
        var token = await SandboxProcess.ReadTokenAsync(await sandbox.RedeemCodeAsync("riverside", authorization));
        Assert.Equal(patients[2], token.Patient);
    }
}

using System.Text.Json;
using static SandboxEhr.Tests.AuthTestSupport;

namespace SandboxEhr.Tests;

public sealed class AuthDiscoveryTests(SandboxProcess sandbox)
{
    private static string[] Strings(JsonElement element, string name) =>
        [.. element.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];

    [Theory]
    [InlineData("riverside", "permission-v1", "patient/Observation.read", "patient/Coverage.read")]
    [InlineData("summit", "permission-v1", "patient/Coverage.read", "patient/DiagnosticReport.read")]
    [InlineData("lakeside", "permission-v2", "patient/Observation.rs", "patient/Observation.read")]
    public async Task Smart_configuration_announces_endpoints_pkce_auth_methods_and_profile_scopes(
        string hospitalId, string permission, string resourceScope, string unsupportedScope)
    {
        var config = await sandbox.GetJson($"{sandbox.FhirBase(hospitalId)}/.well-known/smart-configuration");
        var auth = sandbox.AuthBase(hospitalId);

        Assert.Equal(sandbox.FhirBase(hospitalId), config.GetProperty("issuer").GetString());
        Assert.Equal($"{auth}/authorize", config.GetProperty("authorization_endpoint").GetString());
        Assert.Equal($"{auth}/token", config.GetProperty("token_endpoint").GetString());
        Assert.Equal($"{auth}/revoke", config.GetProperty("revocation_endpoint").GetString());
        Assert.Equal($"{auth}/jwks", config.GetProperty("jwks_uri").GetString());
        Assert.Equal(["S256"], Strings(config, "code_challenge_methods_supported"));
        Assert.Equal(["authorization_code", "refresh_token"], Strings(config, "grant_types_supported"));
        Assert.Equal(["none", "client_secret_basic", "private_key_jwt"], Strings(config, "token_endpoint_auth_methods_supported"));
        Assert.Equal(["RS384", "ES384"], Strings(config, "token_endpoint_auth_signing_alg_values_supported"));
        Assert.Contains("code", Strings(config, "response_types_supported"));

        var scopes = Strings(config, "scopes_supported");
        Assert.Contains(resourceScope, scopes);
        Assert.DoesNotContain(unsupportedScope, scopes);
        Assert.Contains("offline_access", scopes);
        Assert.Contains("openid", scopes);
        Assert.Contains("launch/patient", scopes);

        var capabilities = Strings(config, "capabilities");
        foreach (var capability in new[]
                 {
                     "launch-standalone", "client-public", "client-confidential-symmetric", "client-confidential-asymmetric",
                     "context-standalone-patient", "permission-offline", "permission-patient", "sso-openid-connect", permission,
                 })
            Assert.Contains(capability, capabilities);
        Assert.DoesNotContain(permission == "permission-v1" ? "permission-v2" : "permission-v1", capabilities);
    }

    [Fact]
    public async Task Jwks_publishes_only_the_public_half_of_an_rsa_key()
    {
        var jwks = await sandbox.GetJson($"{sandbox.AuthBase("riverside")}/jwks");
        var key = Assert.Single(jwks.GetProperty("keys").EnumerateArray());
        Assert.Equal("RSA", key.GetProperty("kty").GetString());
        Assert.Equal("RS256", key.GetProperty("alg").GetString());
        Assert.False(string.IsNullOrEmpty(key.GetProperty("kid").GetString()));
        Assert.True(key.GetProperty("n").GetString()!.Length > 300);
        Assert.False(key.TryGetProperty("d", out _));
        Assert.False(key.TryGetProperty("p", out _));
    }

    [Fact]
    public async Task Discovery_of_an_unknown_hospital_is_404()
    {
        using var response = await sandbox.HttpClient.GetAsync("/hospitals/nowhere/fhir/.well-known/smart-configuration", Ct);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }
}

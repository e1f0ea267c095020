using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PatientConnect.Connections;
using PatientConnect.Grains.Connections;
using PatientConnect.Grains.Idempotency;
using PatientConnect.Grains.Patients;
using PatientConnect.Grains.Security;
using PatientConnect.Grains.Sessions;
using PatientConnect.Grains.Smart;
using PatientConnect.Grains.Tenants;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Tests;

public sealed class TokenProtectorTests
{
    private static readonly TokenProtector Protector = new(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

    [Fact]
    public void Round_trip_returns_the_token_and_never_stores_it_in_clear()
    {
        var sealedValue = Protector.Protect("access-token-123", "conn_x/access");
        Assert.DoesNotContain("access-token-123", sealedValue);
        Assert.Equal("access-token-123", Protector.Unprotect(sealedValue, "conn_x/access"));
    }

    [Fact]
    public void Same_token_encrypts_differently_each_time()
    {
        Assert.NotEqual(Protector.Protect("t", "c"), Protector.Protect("t", "c"));
    }

    [Fact]
    public void Tampered_ciphertext_is_refused()
    {
        var bytes = Convert.FromBase64String(Protector.Protect("access-token-123", "c"));
        bytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => Protector.Unprotect(Convert.ToBase64String(bytes), "c"));
    }

    [Fact]
    public void Ciphertext_moved_to_another_connection_is_refused()
    {
        var sealedValue = Protector.Protect("access-token-123", "conn_a/access");
        Assert.ThrowsAny<CryptographicException>(() => Protector.Unprotect(sealedValue, "conn_b/access"));
    }

    [Fact]
    public void Another_key_cannot_read_it()
    {
        var other = new TokenProtector(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        Assert.ThrowsAny<CryptographicException>(() => other.Unprotect(Protector.Protect("t", "c"), "c"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    public void Missing_or_malformed_key_stops_start_up(string? key)
    {
        var e = Assert.Throws<InvalidOperationException>(() => new TokenProtector(key));
        Assert.Contains("TokenEncryptionKey", e.Message);
    }
}

public sealed class SmartScopesTests
{
    private static SmartConfiguration Config(IReadOnlyList<string>? supported, params string[] capabilities) =>
        new("https://ehr.test/fhir", null, "https://ehr.test/auth", "https://ehr.test/token", null, null, supported, capabilities);

    [Fact]
    public void Permission_v2_servers_get_rs_scopes()
    {
        var scopes = SmartScopes.Choose(Config(null, "permission-v2"));
        Assert.Contains("patient/Observation.rs", scopes);
        Assert.DoesNotContain("patient/Observation.read", scopes);
        Assert.Contains("launch/patient", scopes);
        Assert.Contains("offline_access", scopes);
    }

    [Fact]
    public void Servers_without_v2_get_read_scopes()
    {
        var scopes = SmartScopes.Choose(Config(null, "permission-v1"));
        Assert.Contains("patient/Condition.read", scopes);
        Assert.DoesNotContain(scopes, s => s.EndsWith(".rs", StringComparison.Ordinal));
    }

    [Fact]
    public void A_listed_scope_set_is_respected()
    {
        var scopes = SmartScopes.Choose(Config(["patient/Patient.rs", "patient/Observation.read", "openid"], "permission-v2"));
        Assert.Equal(["patient/Patient.rs", "patient/Observation.read", "openid"], scopes);
    }

    [Fact]
    public void A_wildcard_covers_every_resource_type()
    {
        var scopes = SmartScopes.Choose(Config(["patient/*.rs", "launch/patient"], "permission-v2"));
        Assert.Equal(SmartScopes.ResourceTypes.Count + 1, scopes.Count);
    }

    [Fact]
    public void Pkce_challenge_is_the_S256_of_the_verifier()
    {
        var pkce = PkcePair.New();
        Assert.True(pkce.Verifier.Length >= 43);
        // RFC 7636 appendix B test vector.
        Assert.Equal("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", PkcePair.ChallengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
    }
}

/// <summary>State classes are stored as JSON by the silo; each must survive System.Text.Json as it is.</summary>
public sealed class StateSerializationTests
{
    private static T RoundTrip<T>(T value) => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value))!;

    [Fact]
    public void Session_state_round_trips()
    {
        var s = new PatientSessionState
        {
            TenantId = "t", PatientId = "p", ReturnUrl = "https://a", SourceId = "src_x", RecommendedSourceIds = ["src_y"],
            MetadataJson = """{"a":1}""", CreatedAt = DateTimeOffset.UnixEpoch, ExpiresAt = DateTimeOffset.UnixEpoch.AddHours(1),
            Status = SessionStatus.Complete, ConnectionStatus = ConnectionStatus.Active, ConnectionId = "conn_x",
            Transaction = new OAuthTransactionState { StateNonce = "n", CodeVerifier = "v", RequestedScopes = ["openid"], Used = true },
        };
        var back = RoundTrip(s);
        Assert.Equal(s.ExpiresAt, back.ExpiresAt);
        Assert.Equal(SessionStatus.Complete, back.Status);
        Assert.Equal(ConnectionStatus.Active, back.ConnectionStatus);
        Assert.True(back.Transaction!.Used);
        Assert.Equal(["openid"], back.Transaction.RequestedScopes);
        Assert.Equal(["src_y"], back.RecommendedSourceIds);
    }

    [Fact]
    public void Patient_connection_key_and_idempotency_states_round_trip()
    {
        var patient = RoundTrip(new PatientState
        {
            ConnectionsBySource = new() { ["src_a"] = "conn_a" },
        });
        Assert.Equal("conn_a", patient.ConnectionsBySource["src_a"]);

        var connection = RoundTrip(new ConnectionState { TenantId = "t", Scopes = ["a"], AccessTokenProtected = "x", Status = ConnectionStatus.Failed });
        Assert.Equal(ConnectionStatus.Failed, connection.Status);
        Assert.Equal("x", connection.AccessTokenProtected);

        Assert.Equal("t", RoundTrip(new ApiKeyState { TenantId = "t" }).TenantId);
        Assert.True(RoundTrip(new IdempotencyState { Completed = true, StatusCode = 201 }).Completed);
    }
}

public sealed class DiscoveryTests(ClusterFixture f)
{
    [Fact]
    public async Task Discovery_follows_a_moved_well_known_document()
    {
        // The SmartClient exactly as the silo registers it, resilience handler included.
        await using var provider = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(f.Clock)
            .AddPatientConnectGrains(new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["PatientConnect:Outbound:AllowLoopback"] = "true" }).Build())
            .BuildServiceProvider();
        var smart = provider.GetRequiredService<SmartClient>();
        var config = await smart.DiscoverAsync(f.Ehr.FhirBase("moved"), TestContext.Current.CancellationToken);
        Assert.Equal($"{f.Ehr.Origin}/keyed/auth/token", config.TokenEndpoint);
    }
}

public sealed class ClientAssertionTests
{
    private sealed class NoHttp : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => throw new InvalidOperationException("no HTTP in this test");
    }

    private static readonly SmartClient Client = new(new NoHttp(), TimeProvider.System,
        Microsoft.Extensions.Logging.Abstractions.NullLogger<SmartClient>.Instance);

    [Fact]
    public async Task Ec_p384_keys_sign_ES384_assertions_the_token_endpoint_can_verify()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var registration = new Sources.SourceRegistration("client-1", Sources.ClientAuthMethod.PrivateKeyJwt, null, ec.ExportPkcs8PrivateKeyPem(), "kid-ec");
        var assertion = Client.CreateClientAssertion(registration, "https://ehr.test/token");

        var token = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(assertion);
        Assert.Equal("ES384", token.Alg);
        Assert.Equal("kid-ec", token.Kid);
        var publicKey = ECDsa.Create(ec.ExportParameters(false));
        var result = await new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().ValidateTokenAsync(assertion,
            new Microsoft.IdentityModel.Tokens.TokenValidationParameters
            {
                ValidIssuer = "client-1",
                ValidAudience = "https://ehr.test/token",
                IssuerSigningKey = new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(publicKey),
            });
        Assert.True(result.IsValid, result.Exception?.Message);
        // Each assertion is unique: servers refuse a replayed jti.
        Assert.NotEqual(token.Id, new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(Client.CreateClientAssertion(registration, "https://ehr.test/token")).Id);
    }

    [Fact]
    public void Registration_and_token_records_never_print_their_secrets()
    {
        var registration = new Sources.SourceRegistration("client-1", Sources.ClientAuthMethod.ClientSecretBasic, "very-secret", "PEM-DATA", null);
        Assert.DoesNotContain("very-secret", registration.ToString());
        Assert.DoesNotContain("PEM-DATA", registration.ToString());
        var token = new TokenResponse("access-xyz", "refresh-xyz", "id-xyz", TimeSpan.FromHours(1), "openid", "p1");
        Assert.DoesNotContain("xyz", token.ToString());
        var grant = new TokenGrant("access-xyz", "refresh-xyz", DateTimeOffset.UnixEpoch, ["openid"], "p1");
        Assert.DoesNotContain("xyz", grant.ToString());
    }
}

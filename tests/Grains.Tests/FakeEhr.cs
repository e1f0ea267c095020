using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace PatientConnect.Grains.Tests;

/// <summary>What the fake token endpoint does with the next code exchange.</summary>
public enum TokenMode { Ok, InvalidGrant, ServerError, WrongIdTokenAudience, NoScope, NoPatientContext }

/// <summary>One request the fake token endpoint received.</summary>
public sealed record TokenRequest(string Hospital, IReadOnlyDictionary<string, string> Form, string? Authorization);

/// <summary>
/// A minimal SMART server on 127.0.0.1 for the grain tests: discovery (well-known, or only /metadata for
/// "legacy", nothing for "down"), a token endpoint that checks PKCE, and a JWKS for its id_tokens. The
/// authorize step is skipped: tests read state and code_challenge from the authorize URL and register
/// a code for them, as a portal would after consent.
/// </summary>
public sealed class FakeEhr : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly RsaSecurityKey _signingKey;
    private readonly ConcurrentDictionary<string, (string Challenge, string Patient)> _codes = new();

    public ConcurrentQueue<TokenRequest> TokenRequests { get; } = new();
    public ConcurrentDictionary<string, int> DiscoveryRequests { get; } = new();
    public volatile TokenMode Mode = TokenMode.Ok;
    public volatile int TokenDelayMs;
    public volatile string GrantedScope = "patient/Observation.rs patient/Patient.rs launch/patient openid fhirUser offline_access";

    private readonly TimeProvider _clock;

    private FakeEhr(WebApplication app, RsaSecurityKey signingKey, TimeProvider clock)
    {
        _app = app;
        _signingKey = signingKey;
        _clock = clock;
    }

    public string Origin { get; private set; } = "";

    public string FhirBase(string hospital) => $"{Origin}/{hospital}/fhir";

    public void IssueCode(string code, string challenge, string patient) => _codes[code] = (challenge, patient);

    /// <param name="clock">The clock the silo uses, so id_tokens are current in the grains' time.</param>
    public static async Task<FakeEhr> StartAsync(TimeProvider clock)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var key = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "fake-1" };
        var ehr = new FakeEhr(app, key, clock);
        ehr.Map(app);
        await app.StartAsync();
        ehr.Origin = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return ehr;
    }

    private void Map(WebApplication app)
    {
        app.MapGet("/{hospital}/fhir/.well-known/smart-configuration", (string hospital) =>
        {
            DiscoveryRequests.AddOrUpdate(hospital, 1, (_, n) => n + 1);
            if (hospital is "down") return Results.StatusCode(503);
            if (hospital is "legacy") return Results.NotFound();
            if (hospital is "moved") return Results.Redirect($"{Origin}/keyed/fhir/.well-known/smart-configuration");
            var v1 = hospital is "lakeside";
            return Results.Json(new Dictionary<string, object?>
            {
                ["issuer"] = FhirBase(hospital),
                ["authorization_endpoint"] = $"{Origin}/{hospital}/auth/authorize?vendor=fake",
                ["token_endpoint"] = $"{Origin}/{hospital}/auth/token",
                ["jwks_uri"] = $"{Origin}/{hospital}/auth/jwks",
                ["code_challenge_methods_supported"] = new[] { "S256" },
                ["capabilities"] = v1
                    ? new[] { "launch-standalone", "client-public", "permission-v1", "permission-offline" }
                    : new[] { "launch-standalone", "client-public", "permission-v2", "permission-offline" },
                // riverside lists only some scopes: the client must keep to them.
                ["scopes_supported"] = hospital is "riverside"
                    ? new[] { "launch/patient", "openid", "fhirUser", "offline_access", "patient/Patient.rs", "patient/Observation.rs", "patient/Condition.rs" }
                    : null,
            });
        });

        app.MapGet("/{hospital}/fhir/metadata", (string hospital) =>
        {
            if (hospital is "down") return Results.StatusCode(500);
            return Results.Json(new
            {
                resourceType = "CapabilityStatement",
                rest = new[]
                {
                    new
                    {
                        mode = "server",
                        security = new
                        {
                            extension = new object[]
                            {
                                new
                                {
                                    url = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                                    extension = new[]
                                    {
                                        new { url = "authorize", valueUri = $"{Origin}/{hospital}/auth/authorize" },
                                        new { url = "token", valueUri = $"{Origin}/{hospital}/auth/token" },
                                    },
                                },
                            },
                        },
                    },
                },
            });
        });

        app.MapGet("/{hospital}/auth/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_signingKey.Rsa.ExportParameters(false)) { KeyId = _signingKey.KeyId });
            return Results.Json(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
        });

        app.MapPost("/{hospital}/auth/token", async (string hospital, HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            var fields = form.ToDictionary(f => f.Key, f => f.Value.ToString());
            string? authorization = request.Headers.Authorization;
            TokenRequests.Enqueue(new TokenRequest(hospital, fields, authorization));
            if (TokenDelayMs > 0) await Task.Delay(TokenDelayMs);

            if (Mode == TokenMode.ServerError) return Results.StatusCode(502);
            var code = fields.GetValueOrDefault("code") ?? "";
            if (Mode == TokenMode.InvalidGrant || !_codes.TryRemove(code, out var issued))
            {
                return Results.Json(new { error = "invalid_grant", error_description = "The code is unknown or used." }, statusCode: 400);
            }
            var verifier = fields.GetValueOrDefault("code_verifier") ?? "";
            var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
            if (challenge != issued.Challenge)
            {
                return Results.Json(new { error = "invalid_grant", error_description = "PKCE verification failed." }, statusCode: 400);
            }
            var clientId = fields.GetValueOrDefault("client_id") ?? ClientIdFromBasic(authorization) ?? ClientIdFromAssertion(fields) ?? "";
            var now = _clock.GetUtcNow().UtcDateTime;
            var idToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = FhirBase(hospital),
                Audience = Mode == TokenMode.WrongIdTokenAudience ? "someone-else" : clientId,
                IssuedAt = now,
                Expires = now.AddMinutes(5),
                Claims = new Dictionary<string, object> { ["sub"] = issued.Patient, ["fhirUser"] = $"Patient/{issued.Patient}" },
                SigningCredentials = new SigningCredentials(_signingKey, SecurityAlgorithms.RsaSha256),
            });
            var body = new Dictionary<string, object?>
            {
                ["access_token"] = "at-" + Guid.NewGuid().ToString("N"),
                ["token_type"] = "Bearer",
                ["expires_in"] = 3600,
                ["refresh_token"] = "rt-" + Guid.NewGuid().ToString("N"),
                ["patient"] = issued.Patient,
                ["id_token"] = idToken,
            };
            if (Mode != TokenMode.NoScope) body["scope"] = GrantedScope;
            if (Mode == TokenMode.NoPatientContext)
            {
                body.Remove("patient");
                body.Remove("id_token");
            }
            return Results.Json(body);
        });
    }

    private static string? ClientIdFromBasic(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith("Basic ", StringComparison.Ordinal)) return null;
        var pair = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..]));
        return Uri.UnescapeDataString(pair[..pair.IndexOf(':')]);
    }

    private static string? ClientIdFromAssertion(Dictionary<string, string> fields) =>
        fields.TryGetValue("client_assertion", out var assertion) ? new JsonWebToken(assertion).Issuer : null;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

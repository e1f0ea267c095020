using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PatientConnect.Grains.Sources;

namespace PatientConnect.Grains.Smart;

/// <summary>
/// How this service proves who it is to a token service: client_id in the form (public clients),
/// HTTP Basic (client_secret_basic) or a signed client assertion (private_key_jwt, SMART Backend
/// Services / RFC 7523). Holds the signing keys loaded from the registrations' PEMs.
/// </summary>
internal sealed class ClientAuthentication(TimeProvider timeProvider)
{
    // Short-lived: the token endpoint receives the assertion seconds later (SMART asks for ≤ 5 minutes).
    private static readonly TimeSpan AssertionLifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<SourceRegistration, SigningCredentials> _signing = new();

    /// <summary>Adds the registration's credentials to a request bound for <paramref name="endpoint"/>.</summary>
    public void Apply(HttpRequestMessage request, List<KeyValuePair<string, string>> form, SourceRegistration registration, string endpoint)
    {
        switch (registration.AuthMethod)
        {
            case ClientAuthMethod.None:
                form.Add(new("client_id", registration.ClientId));
                break;
            case ClientAuthMethod.ClientSecretBasic:
                // RFC 6749 §2.3.1: both parts are form-url-encoded before the Basic encoding.
                var pair = $"{Uri.EscapeDataString(registration.ClientId)}:{Uri.EscapeDataString(registration.ClientSecret!)}";
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
                break;
            case ClientAuthMethod.PrivateKeyJwt:
                form.Add(new("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
                form.Add(new("client_assertion", CreateAssertion(registration, endpoint)));
                break;
        }
    }

    /// <summary>SMART Backend Services / RFC 7523 client assertion: iss = sub = client_id, aud = token endpoint.</summary>
    public string CreateAssertion(SourceRegistration registration, string tokenEndpoint)
    {
        var credentials = _signing.GetOrAdd(registration, LoadSigningCredentials);
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = registration.ClientId,
            Audience = tokenEndpoint,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + AssertionLifetime,
            SigningCredentials = credentials,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = registration.ClientId,
                // A fresh jti per assertion: servers refuse a replayed one.
                ["jti"] = Ids.RandomToken(20),
            },
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private static SigningCredentials LoadSigningCredentials(SourceRegistration registration)
    {
        var pem = registration.PrivateKeyPem ?? throw new InvalidOperationException("private_key_jwt needs a PrivateKeyPem.");
        // SMART asks for RS384 or ES384; the PEM alone says which kind of key it is.
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = registration.KeyId }, SecurityAlgorithms.RsaSha384);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            var ec = ECDsa.Create();
            try
            {
                ec.ImportFromPem(pem);
            }
            catch (Exception inner) when (inner is CryptographicException or ArgumentException)
            {
                throw new InvalidOperationException($"The private key of client {registration.ClientId} is neither an RSA nor an EC PEM key.");
            }
            return new SigningCredentials(new ECDsaSecurityKey(ec) { KeyId = registration.KeyId }, SecurityAlgorithms.EcdsaSha384);
        }
    }
}

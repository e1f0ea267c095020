using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SandboxEhr.Tests;

/// <summary>
/// The key pairs of the private_key_jwt test client. The fixture registers their public halves with the
/// sandbox on its command line; the private halves sign client assertions here.
/// </summary>
public static class JwtClientKeys
{
    public const string RsaKeyId = "test-rsa-1";
    public const string EcKeyId = "test-ec-1";

    public static readonly RSA Rsa = RSA.Create(2048);
    public static readonly ECDsa Ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);

    public static string PublicJwks { get; } = BuildJwks();

    public static SigningCredentials RsaCredentials => new(new RsaSecurityKey(Rsa) { KeyId = RsaKeyId }, SecurityAlgorithms.RsaSha384);
    public static SigningCredentials EcCredentials => new(new ECDsaSecurityKey(Ec) { KeyId = EcKeyId }, SecurityAlgorithms.EcdsaSha384);

    /// <summary>A SMART Backend Services style assertion: iss = sub = client, aud = endpoint, 5 minutes, fresh jti.</summary>
    public static string Assertion(string clientId, string audience, SigningCredentials? credentials = null,
        string? jti = null, string? subject = null, TimeSpan? lifetime = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = clientId,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime ?? TimeSpan.FromMinutes(4)),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = subject ?? clientId,
                ["jti"] = jti ?? Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = credentials ?? RsaCredentials,
        });
    }

    private static string BuildJwks()
    {
        var rsa = Rsa.ExportParameters(false);
        var ec = Ec.ExportParameters(false);
        return JsonSerializer.Serialize(new
        {
            keys = new object[]
            {
                new Dictionary<string, string>
                {
                    ["kty"] = "RSA", ["kid"] = RsaKeyId, ["alg"] = "RS384", ["use"] = "sig",
                    ["n"] = Base64Url.EncodeToString(rsa.Modulus), ["e"] = Base64Url.EncodeToString(rsa.Exponent),
                },
                new Dictionary<string, string>
                {
                    ["kty"] = "EC", ["kid"] = EcKeyId, ["alg"] = "ES384", ["use"] = "sig", ["crv"] = "P-384",
                    ["x"] = Base64Url.EncodeToString(ec.Q.X), ["y"] = Base64Url.EncodeToString(ec.Q.Y),
                },
            },
        });
    }
}

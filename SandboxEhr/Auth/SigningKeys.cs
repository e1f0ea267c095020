using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace SandboxEhr.Auth;

/// <summary>One RSA key per hospital for id_tokens (RS256), made at start and published at {auth}/jwks.</summary>
public sealed class SigningKeys : IDisposable
{
    private readonly ConcurrentDictionary<string, RSA> _keys = new(StringComparer.Ordinal);

    public SigningCredentials CredentialsFor(string hospitalId)
    {
        var rsa = _keys.GetOrAdd(hospitalId, _ => RSA.Create(2048));
        return new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = KeyId(hospitalId, rsa) }, SecurityAlgorithms.RsaSha256);
    }

    /// <summary>The public half only, as a JWK Set (RFC 7517).</summary>
    public object PublicJwks(string hospitalId)
    {
        var rsa = _keys.GetOrAdd(hospitalId, _ => RSA.Create(2048));
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        return new
        {
            keys = new[]
            {
                new Dictionary<string, string>
                {
                    ["kty"] = "RSA",
                    ["use"] = "sig",
                    ["alg"] = "RS256",
                    ["kid"] = KeyId(hospitalId, rsa),
                    ["n"] = Base64Url.EncodeToString(parameters.Modulus),
                    ["e"] = Base64Url.EncodeToString(parameters.Exponent),
                },
            },
        };
    }

    // RFC 7638-like: the kid follows the key, so a key change shows up as a new kid.
    private static string KeyId(string hospitalId, RSA rsa) =>
        $"{hospitalId}-{Convert.ToHexStringLower(SHA256.HashData(rsa.ExportRSAPublicKey()))[..16]}";

    public void Dispose()
    {
        foreach (var rsa in _keys.Values)
            rsa.Dispose();
    }
}

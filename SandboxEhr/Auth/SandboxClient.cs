using System.Net;
using Microsoft.IdentityModel.Tokens;

namespace SandboxEhr.Auth;

/// <summary>How a client proves itself at the token endpoint (SMART 2.x client types).</summary>
public enum ClientAuthMethod
{
    /// <summary>Public client: PKCE only.</summary>
    None,
    ClientSecretBasic,
    /// <summary>Asymmetric: a JWT signed with a key of the client's registered JWKS (RS384 / ES384).</summary>
    PrivateKeyJwt,
}

/// <summary>A registered client. No redirect URIs registered means any http(s) URI on a loopback host.</summary>
public sealed class SandboxClient
{
    public required string Id { get; init; }
    public required ClientAuthMethod AuthMethod { get; init; }
    public string? Secret { get; init; }
    public IReadOnlyList<string> RedirectUris { get; init; } = [];
    public JsonWebKeySet? Jwks { get; init; }

    public bool AcceptsRedirect(string? redirectUri)
    {
        if (string.IsNullOrEmpty(redirectUri))
            return false;
        if (RedirectUris.Count > 0)
            return RedirectUris.Contains(redirectUri, StringComparer.Ordinal);
        // RFC 6749 3.1.2: absolute URI without a fragment.
        if (!Uri.TryCreate(redirectUri, UriKind.Absolute, out var uri) || uri.Fragment.Length > 0)
            return false;
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            return false;
        return uri.IsLoopback && (uri.Host == "localhost" || IPAddress.TryParse(uri.Host.Trim('[', ']'), out _));
    }

    public static string MethodName(ClientAuthMethod method) => method switch
    {
        ClientAuthMethod.None => "none",
        ClientAuthMethod.ClientSecretBasic => "client_secret_basic",
        ClientAuthMethod.PrivateKeyJwt => "private_key_jwt",
        _ => throw new ArgumentOutOfRangeException(nameof(method)),
    };

    public static ClientAuthMethod ParseMethod(string? name) => name switch
    {
        null or "" or "none" => ClientAuthMethod.None,
        "client_secret_basic" => ClientAuthMethod.ClientSecretBasic,
        "private_key_jwt" => ClientAuthMethod.PrivateKeyJwt,
        _ => throw new InvalidOperationException($"Unknown client AuthMethod '{name}' (none | client_secret_basic | private_key_jwt)."),
    };
}

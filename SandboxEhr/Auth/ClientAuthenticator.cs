using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SandboxEhr.Auth;

/// <summary>Token and revocation endpoint client authentication: none, client_secret_basic, private_key_jwt.</summary>
public sealed class ClientAuthenticator(ClientRegistry clients, AuthStore store)
{
    public const string JwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>SMART Backend Services: an assertion may live five minutes at most.</summary>
    private static readonly TimeSpan MaxAssertionLifetime = TimeSpan.FromMinutes(5);

    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>The authenticated (or, for public clients, identified) client, or the error to answer.</summary>
    public async Task<(SandboxClient? Client, OAuthError? Error)> AuthenticateAsync(
        HttpRequest request, IFormCollection form, string tokenEndpoint)
    {
        var formClientId = form["client_id"].ToString();
        var authorization = request.Headers.Authorization.ToString();

        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            return AuthenticateBasic(authorization["Basic ".Length..].Trim(), formClientId);

        var assertionType = form["client_assertion_type"].ToString();
        var assertion = form["client_assertion"].ToString();
        if (assertionType.Length > 0 || assertion.Length > 0)
        {
            if (assertionType != JwtBearerAssertionType)
                return (null, OAuthError.InvalidClient($"client_assertion_type must be {JwtBearerAssertionType}"));
            return await AuthenticateAssertionAsync(assertion, formClientId, tokenEndpoint);
        }

        if (formClientId.Length == 0)
            return (null, OAuthError.InvalidClient("client_id is required"));
        var client = clients.Find(formClientId);
        if (client is null)
            return (null, OAuthError.InvalidClient("unknown client"));
        if (client.AuthMethod != ClientAuthMethod.None)
            return (null, OAuthError.InvalidClient(
                $"client {client.Id} must authenticate with {SandboxClient.MethodName(client.AuthMethod)}"));
        return (client, null);
    }

    private (SandboxClient?, OAuthError?) AuthenticateBasic(string encoded, string formClientId)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return (null, OAuthError.InvalidClient("malformed Basic credentials"));
        }
        var colon = decoded.IndexOf(':');
        if (colon < 0)
            return (null, OAuthError.InvalidClient("malformed Basic credentials"));
        // RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
        var id = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
        var secret = Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' '));

        var client = clients.Find(id);
        if (client is null || client.AuthMethod != ClientAuthMethod.ClientSecretBasic || client.Secret is null
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(client.Secret)))
            return (null, OAuthError.InvalidClient("client authentication failed"));
        if (formClientId.Length > 0 && formClientId != id)
            return (null, OAuthError.InvalidClient("client_id does not match the credentials"));
        return (client, null);
    }

    private async Task<(SandboxClient?, OAuthError?)> AuthenticateAssertionAsync(
        string assertion, string formClientId, string tokenEndpoint)
    {
        string issuer;
        try
        {
            issuer = new JsonWebToken(assertion).Issuer;
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException)
        {
            return (null, OAuthError.InvalidClient("client_assertion is not a JWT"));
        }

        var clientId = formClientId.Length > 0 ? formClientId : issuer;
        var client = clients.Find(clientId);
        if (client is null || client.AuthMethod != ClientAuthMethod.PrivateKeyJwt || client.Jwks is null)
            return (null, OAuthError.InvalidClient("client authentication failed"));

        var parameters = new TokenValidationParameters
        {
            ValidIssuer = client.Id,
            ValidAudience = tokenEndpoint,
            IssuerSigningKeys = client.Jwks.GetSigningKeys(),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha384, SecurityAlgorithms.EcdsaSha384],
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateLifetime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
        };
        var result = await Handler.ValidateTokenAsync(assertion, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
            return (null, OAuthError.InvalidClient($"client_assertion rejected: {result.Exception?.GetType().Name ?? "invalid"}"));
        if (jwt.Subject != client.Id)
            return (null, OAuthError.InvalidClient("client_assertion sub must equal the client_id"));
        if (string.IsNullOrEmpty(jwt.Id))
            return (null, OAuthError.InvalidClient("client_assertion needs a jti"));
        var expiresAt = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero);
        if (expiresAt - store.Now > MaxAssertionLifetime)
            return (null, OAuthError.InvalidClient("client_assertion exp is more than five minutes ahead"));
        if (!store.TryUseAssertionId(client.Id, jwt.Id, expiresAt))
            return (null, OAuthError.InvalidClient("client_assertion jti was already used"));
        return (client, null);
    }
}

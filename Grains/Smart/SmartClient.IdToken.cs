using System.Collections.Concurrent;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace PatientConnect.Grains.Smart;

/// <summary>id_token checks: issuer, audience, lifetime, and the signature against the server's JWKS (cached).</summary>
public sealed partial class SmartClient
{
    private static readonly TimeSpan JwksTtl = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, (JsonWebKeySet Keys, DateTimeOffset Until)> _jwks = new(StringComparer.Ordinal);

    /// <summary>
    /// Checks an id_token: issuer (the FHIR base, or the discovery issuer), audience (our client id),
    /// expiry, and the signature against the server's JWKS. Throws <see cref="SmartException"/> with
    /// code id_token_invalid.
    /// </summary>
    /// <returns>The fhirUser claim when the token carries one.</returns>
    public async Task<string?> ValidateIdTokenAsync(
        string fhirBaseUrl, string? issuer, string? jwksUri, string clientId, string idToken, CancellationToken cancellationToken = default)
    {
        var issuers = new List<string> { fhirBaseUrl, fhirBaseUrl + "/" };
        if (issuer is not null) issuers.Add(issuer);

        var parameters = new TokenValidationParameters
        {
            ValidIssuers = issuers,
            ValidAudience = clientId,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            // Lifetime is checked against our TimeProvider (not DateTime.UtcNow) so tests can move time.
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = timeProvider.GetUtcNow().UtcDateTime;
                var skew = TimeSpan.FromMinutes(2);
                return expires is { } exp && now < exp + skew && (notBefore is not { } nbf || nbf - skew <= now);
            },
            ValidAlgorithms = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384"],
        };

        if (jwksUri is not null)
        {
            var keys = await GetJwksAsync(jwksUri, refresh: false, cancellationToken);
            parameters.IssuerSigningKeys = keys.GetSigningKeys();
            var result = await new JsonWebTokenHandler().ValidateTokenAsync(idToken, parameters);
            if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException)
            {
                // The server rotated its keys since we cached the set: fetch once more before refusing.
                keys = await GetJwksAsync(jwksUri, refresh: true, cancellationToken);
                parameters.IssuerSigningKeys = keys.GetSigningKeys();
                result = await new JsonWebTokenHandler().ValidateTokenAsync(idToken, parameters);
            }
            return FhirUserOf(result);
        }

        // No jwks_uri published (the /metadata fallback never has one). OpenID Connect Core §3.1.3.7
        // allows TLS server validation in place of the signature check for an id_token received straight
        // from the token endpoint, which is the case here; the claims are still checked.
        parameters.RequireSignedTokens = false;
        parameters.ValidateIssuerSigningKey = false;
        parameters.SignatureValidator = (token, _) => new JsonWebToken(token);
        return FhirUserOf(await new JsonWebTokenHandler().ValidateTokenAsync(idToken, parameters));
    }

    private static string? FhirUserOf(TokenValidationResult result)
    {
        if (result.IsValid)
        {
            return result.Claims.TryGetValue("fhirUser", out var fhirUser) ? fhirUser as string : null;
        }
        // The exception type names what failed (issuer, audience, lifetime, signature) without the token.
        var what = result.Exception?.GetType().Name.Replace("SecurityToken", "").Replace("Exception", "") ?? "Invalid";
        throw new SmartException("id_token_invalid", $"The id_token from the health system failed validation ({what}).", result.Exception);
    }

    private async Task<JsonWebKeySet> GetJwksAsync(string jwksUri, bool refresh, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        if (!refresh && _jwks.TryGetValue(jwksUri, out var cached) && cached.Until > now) return cached.Keys;
        try
        {
            using var response = await Http().GetAsync(jwksUri, cancellationToken);
            response.EnsureSuccessStatusCode();
            var keys = new JsonWebKeySet(await response.Content.ReadAsStringAsync(cancellationToken));
            _jwks[jwksUri] = (keys, now + JwksTtl);
            return keys;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SmartException("id_token_invalid", $"The health system's signing keys at {HostOf(jwksUri)} could not be fetched.", e);
        }
    }
}

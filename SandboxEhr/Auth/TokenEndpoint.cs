using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SandboxEhr.Hospitals;

namespace SandboxEhr.Auth;

/// <summary>The token response of SMART App Launch 2.x (RFC 6749 5.1 plus patient context).</summary>
public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("scope")] string Scope,
    [property: JsonPropertyName("patient")] string Patient,
    [property: JsonPropertyName("refresh_token"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RefreshToken,
    [property: JsonPropertyName("id_token"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? IdToken)
{
    /// <summary>Seconds until the refresh token in this response stops working (when the hospital sets a lifetime).</summary>
    [JsonPropertyName("refresh_token_expires_in"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? RefreshTokenExpiresIn { get; init; }
}

/// <summary>Token endpoint: authorization_code (PKCE S256) and refresh_token grants; revocation; introspection.</summary>
public sealed class TokenEndpoint(HospitalRegistry hospitals, ClientAuthenticator authenticator, AuthStore store, SigningKeys keys)
{
    private static readonly JsonWebTokenHandler Handler = new();

    public async Task<IResult> Token(string hospitalId, HttpContext context)
    {
        var (hospital, form, error) = await ReadAsync(hospitalId, context);
        if (error is not null)
            return error;
        var response = context.Response;
        var (client, authError) = await authenticator.AuthenticateAsync(context.Request, form!, $"{hospital!.AuthBase(context.Request)}/token");
        if (authError is not null)
            return authError.ToResult(response);

        var grantType = form!["grant_type"].ToString();
        if (grantType == "refresh_token") hospital.CountRefreshRequest();
        var outcome = grantType switch
        {
            "authorization_code" => RedeemCode(hospital, client!, form, context.Request),
            "refresh_token" => Refresh(hospital, client!, form),
            "" => (null, OAuthError.InvalidRequest("grant_type is required")),
            _ => (null, new OAuthError("unsupported_grant_type", $"grant_type {grantType} is not supported")),
        };
        if (outcome.Error is not null)
            return outcome.Error.ToResult(response);
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
        return Results.Json(outcome.Response);
    }

    private (TokenResponse? Response, OAuthError? Error) RedeemCode(Hospital hospital, SandboxClient client, IFormCollection form, HttpRequest request)
    {
        var codeValue = form["code"].ToString();
        if (codeValue.Length == 0)
            return (null, OAuthError.InvalidRequest("code is required"));
        var code = store.TakeCode(codeValue);
        if (code is null || code.HospitalId != hospital.Info.Id)
            return (null, OAuthError.InvalidGrant("unknown, used or revoked authorization code"));
        if (code.ExpiresAt <= store.Now)
            return (null, OAuthError.InvalidGrant("authorization code expired"));
        if (code.ClientId != client.Id)
            return (null, OAuthError.InvalidGrant("authorization code was issued to another client"));
        if (form["redirect_uri"].ToString() != code.RedirectUri)
            return (null, OAuthError.InvalidGrant("redirect_uri does not match the authorization request"));
        if (!VerifierMatches(form["code_verifier"].ToString(), code.CodeChallenge))
            return (null, OAuthError.InvalidGrant("code_verifier does not match the code_challenge"));

        var authorization = new Authorization(AuthStore.NewToken(), hospital.Info.Id, client.Id, code.PatientId, code.Scopes);
        var lifetime = hospital.Settings.AccessTokenLifetimeSeconds;
        var access = store.IssueAccessToken(authorization, code.Scopes, TimeSpan.FromSeconds(lifetime));
        var refreshEnd = hospital.Settings.RefreshTokenLifetimeSeconds is { } refreshLifetime ? store.Now.AddSeconds(refreshLifetime) : (DateTimeOffset?)null;
        var refresh = code.Scopes.Contains("offline_access") ? store.IssueRefreshToken(authorization, code.Scopes, refreshEnd) : null;
        var idToken = code.Scopes.Contains("openid") ? IdToken(hospital, request, client, code) : null;
        return (Response(access, code.Scopes, lifetime, refresh?.Token, idToken) with { RefreshTokenExpiresIn = SecondsLeft(refresh?.ExpiresAt) }, null);
    }

    private (TokenResponse? Response, OAuthError? Error) Refresh(Hospital hospital, SandboxClient client, IFormCollection form)
    {
        var token = form["refresh_token"].ToString();
        if (token.Length == 0)
            return (null, OAuthError.InvalidRequest("refresh_token is required"));
        // One snapshot: a settings change in the middle of this request must not mix old and new values.
        var settings = hospital.Settings;
        if (settings.Refresh == "invalid_grant")
            return (null, OAuthError.InvalidGrant("refresh refused (sandbox setting refresh=invalid_grant)"));
        var grant = store.FindRefreshToken(token);
        if (grant is null || grant.Authorization.HospitalId != hospital.Info.Id)
            return (null, OAuthError.InvalidGrant("unknown, rotated or revoked refresh token"));
        if (grant.Authorization.ClientId != client.Id)
            return (null, OAuthError.InvalidGrant("refresh token was issued to another client"));
        if (grant.ExpiresAt <= store.Now)
            return (null, OAuthError.InvalidGrant("refresh token expired; the patient needs to authorize again"));

        // RFC 6749 6: a narrower scope may be asked for, never a wider one.
        var scopes = grant.Scopes;
        if (form["scope"].ToString() is { Length: > 0 } asked)
        {
            var narrowed = asked.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct().ToList();
            if (narrowed.Any(s => !grant.Scopes.Contains(s)))
                return (null, OAuthError.InvalidScope("scope exceeds what was granted"));
            scopes = narrowed;
        }

        string? newRefresh = null;
        if (hospital.RotatesRefreshTokens)
        {
            // Cerner-like: the presented refresh token is spent; a second use of it is invalid_grant.
            if (!store.RemoveRefreshToken(token))
                return (null, OAuthError.InvalidGrant("refresh token was already used"));
            // The authorization's end does not move with a rotation.
            newRefresh = store.IssueRefreshToken(grant.Authorization, grant.Scopes, grant.ExpiresAt).Token;
        }
        // Epic-like servers keep the refresh token and do not send it again: the client keeps what it has.
        var access = store.IssueAccessToken(grant.Authorization, scopes, TimeSpan.FromSeconds(settings.AccessTokenLifetimeSeconds));
        return (Response(access, scopes, settings.AccessTokenLifetimeSeconds, newRefresh, null)
            with { RefreshTokenExpiresIn = newRefresh is null ? null : SecondsLeft(grant.ExpiresAt) }, null);
    }

    private int? SecondsLeft(DateTimeOffset? end) =>
        end is { } e ? (int)Math.Max(0, Math.Floor((e - store.Now).TotalSeconds)) : null;

    public async Task<IResult> Revoke(string hospitalId, HttpContext context)
    {
        var (hospital, form, error) = await ReadAsync(hospitalId, context);
        if (error is not null)
            return error;
        var (client, authError) = await authenticator.AuthenticateAsync(context.Request, form!, $"{hospital!.AuthBase(context.Request)}/revoke");
        if (authError is not null)
            return authError.ToResult(context.Response);
        var token = form!["token"].ToString();
        if (token.Length == 0)
            return OAuthError.InvalidRequest("token is required").ToResult(context.Response);
        hospital.CountRevocationRequest();
        if (hospital.Settings.RevocationLatencyMs > 0)
            await Task.Delay(hospital.Settings.RevocationLatencyMs, context.RequestAborted);
        // RFC 7009 2.2: 200 whether or not the token was known.
        store.Revoke(hospital.Info.Id, client!.Id, token);
        return Results.Ok();
    }

    /// <summary>RFC 7662 introspection, without client authentication (sandbox only; handy for tests and demos).</summary>
    public async Task<IResult> Introspect(string hospitalId, HttpContext context)
    {
        var (hospital, form, error) = await ReadAsync(hospitalId, context);
        if (error is not null)
            return error;
        var token = form!["token"].ToString();
        if (store.FindAccessToken(token) is { } grant && grant.HospitalId == hospital!.Info.Id)
            return Results.Json(new
            {
                active = true,
                scope = string.Join(' ', grant.Scopes),
                client_id = grant.ClientId,
                patient = grant.PatientId,
                token_type = "Bearer",
                exp = grant.ExpiresAt.ToUnixTimeSeconds(),
            });
        return Results.Json(new { active = false });
    }

    private async Task<(Hospital?, IFormCollection?, IResult?)> ReadAsync(string hospitalId, HttpContext context)
    {
        var hospital = hospitals.Find(hospitalId);
        if (hospital is null)
            return (null, null, Results.NotFound());
        if (!context.Request.HasFormContentType)
            return (null, null, OAuthError.InvalidRequest("send application/x-www-form-urlencoded").ToResult(context.Response));
        return (hospital, await context.Request.ReadFormAsync(context.RequestAborted), null);
    }

    // The scope string keeps the request's order (the grant's set has none).
    private static TokenResponse Response(AccessGrant access, IReadOnlyList<string> scopes, int lifetimeSeconds,
        string? refreshToken, string? idToken) =>
        new(access.Token, "Bearer", lifetimeSeconds, string.Join(' ', scopes), access.PatientId, refreshToken, idToken);

    /// <summary>RFC 7636 4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge.</summary>
    public static bool VerifierMatches(string verifier, string challenge)
    {
        if (verifier.Length is < 43 or > 128 || !verifier.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~'))
            return false;
        var computed = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(challenge));
    }

    private string IdToken(Hospital hospital, HttpRequest request, SandboxClient client, AuthorizationCode code)
    {
        var now = store.Now.UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = code.PatientId,
            ["fhirUser"] = $"Patient/{code.PatientId}",
            ["auth_time"] = store.Now.ToUnixTimeSeconds(),
        };
        if (code.Nonce is not null)
            claims["nonce"] = code.Nonce;
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = hospital.FhirBase(request),
            Audience = client.Id,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddHours(1),
            Claims = claims,
            SigningCredentials = keys.CredentialsFor(hospital.Info.Id),
        });
    }
}

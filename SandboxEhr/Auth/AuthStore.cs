using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace SandboxEhr.Auth;

/// <summary>A code waiting for its token request (RFC 6749 4.1.2), bound to client, redirect URI and PKCE challenge.</summary>
public sealed record AuthorizationCode(
    string Code,
    string HospitalId,
    string ClientId,
    string RedirectUri,
    string CodeChallenge,
    IReadOnlyList<string> Scopes,
    string PatientId,
    string? Nonce,
    DateTimeOffset ExpiresAt);

/// <summary>One approval by the patient; every access and refresh token issued from it shares its id.</summary>
public sealed record Authorization(string Id, string HospitalId, string ClientId, string PatientId, IReadOnlyList<string> Scopes);

public sealed record RefreshGrant(string Token, Authorization Authorization, IReadOnlyList<string> Scopes, DateTimeOffset? ExpiresAt = null);

/// <summary>All live codes and tokens of the process, in memory (the sandbox is a test double).</summary>
public sealed class AuthStore(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, AuthorizationCode> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (AccessGrant Grant, string AuthorizationId)> _accessTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RefreshGrant> _refreshTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _usedAssertionIds = new(StringComparer.Ordinal);

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>256 random bits, base64url: codes and tokens are unguessable and carry no meaning.</summary>
    public static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public void AddCode(AuthorizationCode code) => _codes[code.Code] = code;

    /// <summary>Takes the code out whatever happens next: a code is redeemable once (RFC 6749 4.1.2).</summary>
    public AuthorizationCode? TakeCode(string code) => _codes.TryRemove(code, out var found) ? found : null;

    public AccessGrant IssueAccessToken(Authorization authorization, IReadOnlyList<string> scopes, TimeSpan lifetime)
    {
        PruneExpired();
        var grant = new AccessGrant(
            NewToken(), authorization.HospitalId, authorization.PatientId,
            new HashSet<string>(scopes, StringComparer.Ordinal), Now + lifetime, authorization.ClientId);
        _accessTokens[grant.Token] = (grant, authorization.Id);
        return grant;
    }

    public AccessGrant? FindAccessToken(string token)
    {
        if (!_accessTokens.TryGetValue(token, out var entry))
            return null;
        if (entry.Grant.ExpiresAt > Now)
            return entry.Grant;
        _accessTokens.TryRemove(token, out _);
        return null;
    }

    public RefreshGrant IssueRefreshToken(Authorization authorization, IReadOnlyList<string> scopes, DateTimeOffset? expiresAt = null)
    {
        var grant = new RefreshGrant(NewToken(), authorization, scopes, expiresAt);
        _refreshTokens[grant.Token] = grant;
        return grant;
    }

    public RefreshGrant? FindRefreshToken(string token) => _refreshTokens.TryGetValue(token, out var grant) ? grant : null;

    /// <summary>False when another request rotated the same token first.</summary>
    public bool RemoveRefreshToken(string token) => _refreshTokens.TryRemove(token, out _);

    /// <summary>
    /// RFC 7009: an access token goes alone; a refresh token takes down the whole authorization (its access
    /// tokens and any other refresh token of it). Unknown tokens and other clients' tokens are ignored.
    /// </summary>
    public void Revoke(string hospitalId, string clientId, string token)
    {
        if (_accessTokens.TryGetValue(token, out var access)
            && access.Grant.HospitalId == hospitalId && access.Grant.ClientId == clientId)
        {
            _accessTokens.TryRemove(token, out _);
            return;
        }

        if (_refreshTokens.TryGetValue(token, out var refresh)
            && refresh.Authorization.HospitalId == hospitalId && refresh.Authorization.ClientId == clientId)
        {
            var authorizationId = refresh.Authorization.Id;
            foreach (var (key, value) in _refreshTokens)
                if (value.Authorization.Id == authorizationId)
                    _refreshTokens.TryRemove(key, out _);
            foreach (var (key, value) in _accessTokens)
                if (value.AuthorizationId == authorizationId)
                    _accessTokens.TryRemove(key, out _);
        }
    }

    /// <summary>Live (unexpired) access tokens and refresh tokens of a hospital: what a revocation leaves is visible to tests.</summary>
    public (int AccessTokens, int RefreshTokens) LiveTokens(string hospitalId)
    {
        var now = Now;
        return (_accessTokens.Values.Count(a => a.Grant.HospitalId == hospitalId && a.Grant.ExpiresAt > now),
            _refreshTokens.Values.Count(r => r.Authorization.HospitalId == hospitalId && (r.ExpiresAt is null || r.ExpiresAt > now)));
    }

    /// <summary>Records a client assertion's jti until it expires; false when it was seen before.</summary>
    public bool TryUseAssertionId(string clientId, string jti, DateTimeOffset expiresAt)
    {
        var now = Now;
        foreach (var (key, until) in _usedAssertionIds)
            if (until < now)
                _usedAssertionIds.TryRemove(key, out _);
        return _usedAssertionIds.TryAdd($"{clientId}\n{jti}", expiresAt);
    }

    private long _issued;

    // Bounded memory under benchmarks that log in many times: sweep expired codes and tokens now and then.
    private void PruneExpired()
    {
        if (Interlocked.Increment(ref _issued) % 256 != 0)
            return;
        var now = Now;
        foreach (var (key, value) in _accessTokens)
            if (value.Grant.ExpiresAt <= now)
                _accessTokens.TryRemove(key, out _);
        foreach (var (key, value) in _codes)
            if (value.ExpiresAt <= now)
                _codes.TryRemove(key, out _);
    }
}

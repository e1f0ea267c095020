using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using PatientConnect.Api.Errors;
using PatientConnect.Tenants;

namespace PatientConnect.Api.Auth;

/// <summary>
/// <c>Authorization: Bearer &lt;api key&gt;</c>. The key is hashed at once and only the hash travels
/// (grain key, cache key); the key never appears in a log line or an answer.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IClusterClient cluster,
    IMemoryCache cache)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    // Short enough that a revoked key (admin API) stops working on every Api instance within about a
    // second; the key's grain stays active, so a look-up per second per key is an in-memory call.
    private static readonly TimeSpan PositiveCacheTime = TimeSpan.FromSeconds(1);

    // A miss is remembered briefly, so a client repeating a wrong key (or a scanner) costs one grain
    // activation and storage read, not one per request; short, so a key just created works soon.
    private static readonly TimeSpan NegativeCacheTime = TimeSpan.FromSeconds(10);
    private const int MaxKeyLength = 512;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return AuthenticateResult.NoResult();

        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
            return AuthenticateResult.Fail("The Authorization header is not a Bearer credential.");

        var key = header[bearer.Length..].Trim();
        if (key.Length is 0 or > MaxKeyLength)
            return AuthenticateResult.Fail("The API key is empty or too long.");

        var hash = ApiKeys.Hash(key);
        var cacheKey = "api-key:" + hash;
        if (!cache.TryGetValue(cacheKey, out string? tenant) || tenant is null)
        {
            var missKey = "api-key-miss:" + hash;
            if (cache.TryGetValue(missKey, out _)) return AuthenticateResult.Fail("Unknown or revoked API key.");
            tenant = await cluster.GetGrain<IApiKeyGrain>(hash).GetTenant();
            if (tenant is null)
            {
                cache.Set(missKey, true, NegativeCacheTime);
                return AuthenticateResult.Fail("Unknown or revoked API key.");
            }
            cache.Set(cacheKey, tenant, PositiveCacheTime);
        }

        var identity = new ClaimsIdentity([new Claim(TenantClaims.TenantIdClaim, tenant)], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var presented = !string.IsNullOrEmpty(Request.Headers.Authorization);
        Response.Headers.WWWAuthenticate = presented ? "Bearer error=\"invalid_token\"" : "Bearer";
        var detail = presented
            ? "The API key is not valid. Send Authorization: Bearer <api key> with an active key."
            : "Send Authorization: Bearer <api key>.";
        await TypedResults.Problem(Problems.Create(StatusCodes.Status401Unauthorized, "unauthorized", "unauthorized",
            "Authentication required.", detail)).ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        await TypedResults.Problem(Problems.Create(StatusCodes.Status403Forbidden, "forbidden", "forbidden",
            "Forbidden.", null)).ExecuteAsync(Context);
}

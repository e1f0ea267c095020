using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using PatientConnect.Api.Errors;

namespace PatientConnect.Api.Hosting;

/// <summary><c>PatientConnect:RateLimits</c>: token buckets per API key and per client address.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "PatientConnect:RateLimits";

    public bool Enabled { get; set; } = true;

    /// <summary>Steady /v1 requests per second of one API key, and the burst it may save up.</summary>
    public int PerKeyPerSecond { get; set; } = 200;
    public int PerKeyBurst { get; set; } = 400;

    /// <summary>
    /// Requests per second of one client address to the patient's pages and the OAuth callback (no key
    /// there) and to /v1 across every key it presents, so random bearers cannot sidestep the key buckets.
    /// </summary>
    public int PerAddressPerSecond { get; set; } = 50;
    public int PerAddressBurst { get; set; } = 200;
    public int PerAddressApiPerSecond { get; set; } = 1000;
    public int PerAddressApiBurst { get; set; } = 2000;
}

/// <summary>
/// Request rate limits: an app over its key's budget, or one address flooding the unauthenticated
/// pages, gets 429 with Retry-After (problem+json; the patient's pages get an HTML page) before any
/// key look-up or grain call is spent on it. Health, OpenAPI and the dashboard are not limited.
/// </summary>
public static class RateLimits
{
    public static IServiceCollection AddApiRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var o = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            if (!o.Enabled) return;
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(http => ByAddress(http, o)),
                PartitionedRateLimiter.Create<HttpContext, string>(http => ByKey(http, o)));
            limiter.OnRejected = OnRejectedAsync;
        });
        return services;
    }

    private static RateLimitPartition<string> ByAddress(HttpContext http, RateLimitOptions o)
    {
        var path = http.Request.Path;
        var address = http.Connection.RemoteIpAddress ?? IPAddress.None;
        if (path.StartsWithSegments("/v1"))
            return Bucket("api-addr:" + address, o.PerAddressApiPerSecond, o.PerAddressApiBurst);
        if (IsPatientPage(path))
            return Bucket("page-addr:" + address, o.PerAddressPerSecond, o.PerAddressBurst);
        return RateLimitPartition.GetNoLimiter("none");
    }

    private static RateLimitPartition<string> ByKey(HttpContext http, RateLimitOptions o)
    {
        if (!http.Request.Path.StartsWithSegments("/v1") || http.Request.Headers.Authorization is not [{ Length: > 0 } header])
            return RateLimitPartition.GetNoLimiter("none");
        // Partitioned by a hash, so the limiter's table never holds a key itself.
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(header)));
        return Bucket("key:" + hash, o.PerKeyPerSecond, o.PerKeyBurst);
    }

    private static RateLimitPartition<string> Bucket(string partition, int perSecond, int burst) =>
        RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, burst),
            TokensPerPeriod = Math.Max(1, perSecond / 10),
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = 0,
            AutoReplenishment = true,
        });

    private static async ValueTask OnRejectedAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
            : 1;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers.CacheControl = "no-store";
        if (IsPatientPage(http.Request.Path))
        {
            http.Response.ContentType = "text/html; charset=utf-8";
            await http.Response.WriteAsync(Connect.ConnectHtml.MessagePage("Please wait a moment",
                "Too many requests came from your network just now. Reload this page in a few seconds.", null), cancellationToken);
            return;
        }
        await TypedResults.Problem(Problems.Create(StatusCodes.Status429TooManyRequests, "rate-limited", "rate_limited",
            "Too many requests.", $"This client is over its request rate. Retry after {seconds} s.")).ExecuteAsync(http);
    }

    private static bool IsPatientPage(PathString path) =>
        path.StartsWithSegments("/connect", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/oauth", StringComparison.OrdinalIgnoreCase);
}

using System.Net;
using System.Security.Cryptography;
using Orleans.Runtime;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Tokens;

namespace PatientConnect.EndToEnd.Tests.RateLimits;

/// <summary>A service with low rate limits (and a cluster client to look at grain activations).</summary>
public sealed class LowLimitServices : TokenServices
{
    protected override void AddApiEnvironment(Dictionary<string, string> env)
    {
        env["PatientConnect__RateLimits__PerKeyPerSecond"] = "5";
        env["PatientConnect__RateLimits__PerKeyBurst"] = "10";
        env["PatientConnect__RateLimits__PerAddressPerSecond"] = "5";
        env["PatientConnect__RateLimits__PerAddressBurst"] = "10";
        env["PatientConnect__RateLimits__PerAddressApiPerSecond"] = "1000";
        env["PatientConnect__RateLimits__PerAddressApiBurst"] = "1000";
    }
}

/// <summary>Bursts over a key's or an address's budget are refused with 429 and Retry-After; wrong keys are remembered.</summary>
public sealed class RateLimitTests(LowLimitServices services) : EndToEndTest(services), IClassFixture<LowLimitServices>
{
    [Fact]
    public async Task A_burst_over_a_keys_budget_gets_429_with_retry_after_and_other_keys_are_not_affected()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => ApiA.GetAsync("v1/sources?limit=1", Cancel)));
        try
        {
            var limited = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.InRange(limited.Count, 1, 39);
            Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.OK);
            foreach (var answer in limited)
            {
                Assert.True(int.TryParse(answer.Headers.RetryAfter?.ToString(), out var seconds) && seconds >= 1, "Retry-After");
                var problem = await Json.ReadAsync(answer, HttpStatusCode.TooManyRequests);
                Assert.Equal("rate_limited", problem.Str("code"));
                Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            }
            // Tenant B's key has its own budget.
            using var other = await ApiB.GetAsync("v1/sources?limit=1", Cancel);
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }
        finally
        {
            foreach (var answer in answers) answer.Dispose();
        }
    }

    [Fact]
    public async Task The_callback_and_patient_pages_are_limited_per_address()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            Anonymous.GetAsync($"oauth/callback?state=s{i}&code=c{i}", Cancel)));
        try
        {
            var limited = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.NotEmpty(limited);
            Assert.All(limited, a =>
            {
                Assert.NotNull(a.Headers.RetryAfter);
                Assert.Equal("text/html", a.Content.Headers.ContentType?.MediaType);
            });
        }
        finally
        {
            foreach (var answer in answers) answer.Dispose();
        }
    }

    [Fact]
    public async Task A_random_bearer_activates_no_grain_after_the_first_miss()
    {
        var key = "pc_random_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var hash = Tenants.ApiKeys.Hash(key);
        var management = services.Cluster.GetGrain<IManagementGrain>(0);
        using var client = Services.ApiClient(key);

        using (var first = await client.GetAsync("v1/sources", Cancel)) Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        Assert.True(await IsActiveAsync(management, hash), "the first miss asks the key's grain");

        // Deactivate it, then repeat the same wrong key: answered from the miss cache, no activation.
        await management.ForceActivationCollection(TimeSpan.Zero, Cancel);
        await WaitUntilAsync(async () => !await IsActiveAsync(management, hash));
        for (var i = 0; i < 5; i++)
        {
            using var again = await client.GetAsync("v1/sources", Cancel);
            Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        }
        Assert.False(await IsActiveAsync(management, hash), "a repeated miss activated the key's grain");
    }

    private static async Task<bool> IsActiveAsync(IManagementGrain management, string hash)
    {
        var stats = await management.GetDetailedGrainStatistics();
        return stats.Any(s => s.GrainId.Key.ToString() == hash);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("not within 20 s");
            await Task.Delay(200, Cancel);
        }
    }
}

using System.Net;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Health;

/// <summary>Each silo's own /health/live and /health/ready, with Postgres reachable, cut off and back.</summary>
public sealed class SiloHealthTests(ProxiedPostgresServices services) : EndToEndTest(services), IClassFixture<ProxiedPostgresServices>
{
    private new ProxiedPostgresServices Services => (ProxiedPostgresServices)base.Services;

    [Fact]
    public async Task Each_silo_is_unready_while_Postgres_is_unreachable_and_ready_again_after()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        for (var i = 0; i < Services.SiloCount; i++)
        {
            var (status, body) = await GetAsync(http, i, "health/ready");
            Assert.True(status == HttpStatusCode.OK, $"silo{i}: {(int)status} {body}");
            Assert.Equal("ready", body.Str("status"));
            Assert.Equal("ok", body["checks"].Str("cluster"));
            Assert.Equal("ok", body["checks"].Str("postgres"));
        }

        Services.Proxy.Cut();
        try
        {
            for (var i = 0; i < Services.SiloCount; i++)
            {
                var body = await WaitForAsync(http, i, HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30));
                Assert.Equal("unavailable", body.Str("status"));
                Assert.NotEqual("ok", body["checks"].Str("postgres"));
                // Public answer: which check failed, never why (no host, no connection string).
                Assert.DoesNotContain("Host=", body.ToJsonString(), StringComparison.OrdinalIgnoreCase);
                // Alive all the same: a database outage is no reason to restart the process.
                var (live, _) = await GetAsync(http, i, "health/live");
                Assert.Equal(HttpStatusCode.OK, live);
            }
        }
        finally
        {
            Services.Proxy.Restore();
        }

        for (var i = 0; i < Services.SiloCount; i++)
        {
            var body = await WaitForAsync(http, i, HttpStatusCode.OK, TimeSpan.FromSeconds(60));
            Assert.Equal("ready", body.Str("status"));
        }
        // And the cluster serves again through the Api.
        await Services.WaitForReadyAsync();
    }

    [Fact]
    public async Task Each_silo_serves_its_own_metrics_and_liveness()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        for (var i = 0; i < Services.SiloCount; i++)
        {
            var (status, body) = await GetAsync(http, i, "health/live");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("live", body.Str("status"));
            using var metrics = await http.GetAsync(new Uri(Services.SiloHttpBase(i), "metrics"), Cancel);
            var text = await metrics.Content.ReadAsStringAsync(Cancel);
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            // Orleans' own meter and the product meter's gauge are both exported by every silo.
            Assert.Contains("patientconnect_webhook_outbox_oldest_age_seconds", text, StringComparison.Ordinal);
            Assert.Contains("orleans_", text, StringComparison.Ordinal);
        }
    }

    private async Task<JsonObject> WaitForAsync(HttpClient http, int silo, HttpStatusCode expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var (status, body) = await GetAsync(http, silo, "health/ready");
                if (status == expected) return body;
                last = $"{(int)status} {body.ToJsonString()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(250, Cancel);
        }
        throw new TimeoutException($"silo{silo} /health/ready did not answer {(int)expected} within {timeout}: {last}");
    }

    private async Task<(HttpStatusCode Status, JsonObject Body)> GetAsync(HttpClient http, int silo, string path)
    {
        using var response = await http.GetAsync(new Uri(Services.SiloHttpBase(silo), path), Cancel);
        var text = await response.Content.ReadAsStringAsync(Cancel);
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }
}

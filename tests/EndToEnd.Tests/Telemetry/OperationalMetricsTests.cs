using System.Net;
using System.Net.Http.Json;
using PatientConnect.Connections;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Sync;
using PatientConnect.EndToEnd.Tests.Tokens;
using PatientConnect.EndToEnd.Tests.Webhooks;

namespace PatientConnect.EndToEnd.Tests.Telemetry;

/// <summary>Token refresh and webhook delivery metrics on the silo's /metrics, after the real thing happened.</summary>
[Collection(TokenCollection.Name)]
public sealed class OperationalMetricsTests(TokenServices services) : EndToEndTest(services)
{
    private TokenServices Tokens => (TokenServices)Services;

    [Fact]
    public async Task Refreshes_and_webhook_deliveries_are_counted_with_vendor_and_result()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using (var response = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url = receiver.Url }, Cancel))
        {
            receiver.Secret = (await Json.ReadAsync(response, HttpStatusCode.Created)).Str("secret");
        }
        var before = await ScrapeAsync();

        var (session, query) = await Flow.ConnectAsync(NewPatientId("opmetrics"), "riverside");
        Assert.Equal("true", query["success"]);
        var connectionId = session.Str("connection_id")!;
        await SyncSupport.WaitForSyncAsync(ApiA, connectionId);
        var grain = Tokens.Cluster.GetGrain<IConnectionGrain>(connectionId);
        var lease = await grain.GetAccess();
        Assert.NotNull(lease);
        Assert.NotNull(await grain.RefreshAfterRejected(lease.AccessToken));

        // session completed, connection active, sync completed: three events for this connection's patient.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (receiver.For(connectionId).Count + receiver.For(session.Str("id")!).Count < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, Cancel);
        }
        var accepted = receiver.For(connectionId).Count + receiver.For(session.Str("id")!).Count;
        Assert.True(accepted >= 3, $"{accepted} events delivered");

        PrometheusText after = null!;
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        do
        {
            after = await ScrapeAsync();
            if (Delta("patientconnect_webhook_deliveries_total", ("result", "delivered")) >= accepted) break;
            await Task.Delay(200, Cancel);
        }
        while (DateTime.UtcNow < deadline);

        double Delta(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);

        Assert.Equal(1, Delta("patientconnect_token_refreshes_total", ("vendor", "epic"), ("result", "refreshed")));
        Assert.Equal(0, Delta("patientconnect_token_refreshes_total", ("vendor", "epic"), ("result", "rejected")));
        Assert.Equal(1, Delta("patientconnect_token_refresh_lag_seconds_count", ("vendor", "epic")));
        Assert.True(Delta("patientconnect_webhook_deliveries_total", ("result", "delivered")) >= accepted);
        Assert.True(after.Has("patientconnect_webhook_outbox_oldest_age_seconds"));
    }

    [Fact]
    public async Task Connections_by_status_and_the_webhook_backlog_are_gauges_on_the_api_and_every_silo()
    {
        // The gauges are cluster-wide: the Api host and the silo must both show what the database holds.
        // Earlier tests' connections may still change (a refresh refused later), so the check is "equal to
        // the database at that moment", with this flow's own connection checked row by row.
        var api = new Uri(Services.ApiBase, "metrics");
        var silo = new Uri(Services.SiloHttpBase(0), "metrics");
        var first = await GaugesMatchDatabaseAsync(api);
        Assert.True(first.Has("patientconnect_webhook_outbox_pending"), "the Api exports the webhook backlog");
        Assert.True(first.Has("patientconnect_webhook_outbox_oldest_age_seconds"), "the Api exports the outbox age");

        var (session, query) = await Flow.ConnectAsync(NewPatientId("gauges"), "riverside");
        Assert.Equal("true", query["success"]);
        var connectionId = session.Str("connection_id")!;
        Assert.Equal("active", await ProjectedStatusAsync(connectionId));
        foreach (var target in new[] { api, silo })
        {
            var seen = await GaugesMatchDatabaseAsync(target);
            Assert.True(seen.Sum("patientconnect_connections", ("status", "active")) >= 1, $"{target} shows no active connection");
        }

        using (var deleted = await ApiA.DeleteAsync($"v1/connections/{connectionId}", Cancel))
        {
            Assert.Equal("disconnected", (await Json.ReadAsync(deleted, HttpStatusCode.OK)).Str("status"));
        }
        Assert.Equal("disconnected", await ProjectedStatusAsync(connectionId));
        foreach (var target in new[] { api, silo })
        {
            var seen = await GaugesMatchDatabaseAsync(target);
            Assert.True(seen.Sum("patientconnect_connections", ("status", "disconnected")) >= 1, $"{target} shows no disconnected connection");
        }
    }

    /// <summary>
    /// Scrapes until every status's gauge equals the database's count at that moment (they are measured at
    /// most every 10 s and exported every 15 s), and returns that scrape.
    /// </summary>
    private async Task<PrometheusText> GaugesMatchDatabaseAsync(Uri metrics)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        PrometheusText scrape;
        Dictionary<string, long> database;
        do
        {
            scrape = new PrometheusText(await http.GetStringAsync(metrics, Cancel));
            database = await StatusCountsAsync();
            if (scrape.Has("patientconnect_connections")
                && new[] { "active", "failed", "refresh_failed", "disconnected" }.All(status =>
                    scrape.Sum("patientconnect_connections", ("status", status)) == database.GetValueOrDefault(status)))
            {
                return scrape;
            }
            await Task.Delay(500, Cancel);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"{metrics} did not match the database ({string.Join(", ", database.Select(d => $"{d.Key} {d.Value}"))}) within 90 s:\n" +
            string.Join("\n", scrape.Text.Split('\n').Where(l => l.StartsWith("patientconnect_connections", StringComparison.Ordinal))));
        return scrape;
    }

    private async Task<Dictionary<string, long>> StatusCountsAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(Services.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new Npgsql.NpgsqlCommand("SELECT status, count(*) FROM pc_connection_status GROUP BY status", connection);
        await using var reader = await command.ExecuteReaderAsync(Cancel);
        var counts = new Dictionary<string, long>();
        while (await reader.ReadAsync(Cancel)) counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    private async Task<string?> ProjectedStatusAsync(string connectionId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(Services.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new Npgsql.NpgsqlCommand("SELECT status FROM pc_connection_status WHERE connection_id = @id", connection);
        command.Parameters.AddWithValue("id", connectionId);
        return (string?)await command.ExecuteScalarAsync(Cancel);
    }

    private async Task<PrometheusText> ScrapeAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(new Uri(Services.SiloHttpBase(0), "metrics"), Cancel);
        return new PrometheusText(text);
    }
}

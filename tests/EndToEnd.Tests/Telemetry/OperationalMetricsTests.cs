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

    private async Task<PrometheusText> ScrapeAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(new Uri(Services.SiloHttpBase(0), "metrics"), Cancel);
        return new PrometheusText(text);
    }
}

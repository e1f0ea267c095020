using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Webhooks;

/// <summary>Where webhooks may go, in the development set-up (loopback allowed), and what a failed delivery shows.</summary>
public sealed class WebhookAddressTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Theory]
    [InlineData("https://10.0.0.1/hooks")]
    [InlineData("https://169.254.169.254/latest/meta-data/")]
    [InlineData("https://[fe80::1]/hooks")]
    [InlineData("https://192.168.1.1/")]
    [InlineData("https://[::ffff:10.0.0.1]/")]
    [InlineData("https://metadata.google.internal/")]
    public async Task Private_and_link_local_webhook_urls_are_refused_even_where_loopback_is_allowed(string url)
    {
        using var response = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url }, Cancel);
        var problem = await Json.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("url", problem.Str("field"));
        Assert.Equal("validation_error", problem.Str("code"));
        Assert.Contains("public address", problem.Str("detail"));
        Assert.DoesNotContain((await Json.GetAsync(ApiA, "v1/webhook-endpoints?limit=100"))["data"]!.AsArray(), e => e.Str("url") == url);
    }

    [Fact]
    public async Task A_failed_delivery_shows_a_category_not_the_transport_error()
    {
        // A loopback port nobody listens on: accepted in this set-up, refused when dialled.
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        using var created = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url = $"http://127.0.0.1:{port}/hooks" }, Cancel);
        var endpointId = (await Json.ReadAsync(created, HttpStatusCode.Created)).Str("id")!;
        try
        {
            await Flow.ConnectAsync(NewPatientId("refused"), "summit");
            JsonNode? delivery = null;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                var page = await Json.GetAsync(ApiA, $"v1/webhook-endpoints/{endpointId}/deliveries");
                delivery = page["data"]!.AsArray().FirstOrDefault(d => d!["attempts"]!.GetValue<int>() > 0);
                if (delivery is not null) break;
                await Task.Delay(250, Cancel);
            }
            Assert.NotNull(delivery);
            Assert.Equal("connection_refused", delivery.Str("last_error"));
            Assert.All(delivery["attempt_log"]!.AsArray(), a => Assert.Equal("connection_refused", a.Str("error")));
            Assert.DoesNotContain("127.0.0.1", delivery.ToJsonString());
        }
        finally
        {
            using var _ = await ApiA.DeleteAsync($"v1/webhook-endpoints/{endpointId}", CancellationToken.None);
        }
    }

    [Fact]
    public async Task Webhook_endpoint_list_honours_limit_and_cursor()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var created = await ApiB.PostAsJsonAsync("v1/webhook-endpoints", new { url = $"https://app{i}.example/hooks" }, Cancel);
            ids.Add((await Json.ReadAsync(created, HttpStatusCode.Created)).Str("id")!);
        }
        try
        {
            var seen = new List<string>();
            string? cursor = null;
            var pages = 0;
            do
            {
                var page = await Json.GetAsync(ApiB, "v1/webhook-endpoints?limit=1" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
                Assert.True(page["data"]!.AsArray().Count <= 1);
                seen.AddRange(page["data"]!.AsArray().Select(e => e.Str("id")!));
                cursor = page.Str("next_cursor");
                pages++;
            } while (cursor is not null && pages < 50);
            Assert.Equal(seen.Count, seen.Distinct().Count());
            Assert.Superset(ids.ToHashSet(), seen.ToHashSet());
            Assert.True(pages >= 3);
        }
        finally
        {
            foreach (var id in ids)
            {
                using var _ = await ApiB.DeleteAsync($"v1/webhook-endpoints/{id}", CancellationToken.None);
            }
        }
    }
}

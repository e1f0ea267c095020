using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Tokens;

namespace PatientConnect.EndToEnd.Tests.Webhooks;

/// <summary>Signed delivery to a local receiver and retries in order (a silo crash: <see cref="WebhookSiloCrashTests"/>).</summary>
[Collection(TokenCollection.Name)]
public sealed class WebhookDeliveryTests(TokenServices services) : EndToEndTest(services)
{
    [Fact]
    public async Task Events_are_signed_and_carry_the_object_as_GET_returns_it()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var endpointId = await RegisterAsync(receiver);
        try
        {
            var (session, _) = await Flow.ConnectAsync(NewPatientId("signed"), "summit");
            var sessionId = session.Str("id")!;
            var connectionId = session.Str("connection_id")!;
            await receiver.WaitUntilAsync(r => r.For(sessionId).Count == 1 && r.For(connectionId).Count >= 1,
                TimeSpan.FromSeconds(30), "session and connection events");
            Assert.Equal(0, receiver.BadSignatures);

            var completed = receiver.For(sessionId).Single();
            Assert.Equal("patient_session.completed", completed.Str("type"));
            Assert.StartsWith("evt_", completed.Str("id"));
            Assert.Equal(completed.Str("id"), completed.Str("_webhook_id"));
            // A completed session no longer changes: the event's data is exactly what GET answers.
            var get = await Flow.GetSessionAsync(sessionId);
            Assert.True(JsonNode.DeepEquals(get, completed["data"]), $"GET {get.ToJsonString()}\nevent {completed["data"]!.ToJsonString()}");

            var active = receiver.For(connectionId).First();
            Assert.Equal("connection.active", active.Str("type"));
            var connection = await Flow.GetConnectionAsync(connectionId);
            Assert.Equal(
                connection.Select(p => p.Key).Order(StringComparer.Ordinal),
                active["data"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
            foreach (var field in new[] { "id", "patient_id", "source_id", "status", "fhir_patient_id", "connected_at", "created_at" })
            {
                Assert.True(JsonNode.DeepEquals(connection[field], active["data"]![field]), field);
            }
            Assert.True(JsonNode.DeepEquals(connection["scopes"], active["data"]!["scopes"]));

            // A signature made with another secret is refused by the same verifier.
            receiver.Secret = "whsec_" + Convert.ToBase64String(new byte[32]);
            using var disconnect = await ApiA.DeleteAsync($"v1/connections/{connectionId}", Cancel);
            await receiver.WaitUntilAsync(r => r.BadSignatures > 0, TimeSpan.FromSeconds(30), "a refused signature");
        }
        finally
        {
            await DeleteEndpointAsync(endpointId);
        }
    }

    [Fact]
    public async Task Receiver_failing_five_times_then_recovering_gets_every_event_in_order()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var endpointId = await RegisterAsync(receiver);
        try
        {
            receiver.FailNext(5);
            var patient = NewPatientId("retry");
            var (first, _) = await Flow.ConnectAsync(patient, "summit");
            var connectionId = first.Str("connection_id")!;
            using (var deleted = await ApiA.DeleteAsync($"v1/connections/{connectionId}", Cancel)) Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            await Flow.ConnectAsync(patient, "summit");
            using (var deleted = await ApiA.DeleteAsync($"v1/connections/{connectionId}", Cancel)) Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);

            string[] expected = ["connection.active", "connection.disconnected", "connection.active", "connection.disconnected"];
            await receiver.WaitUntilAsync(r => r.For(connectionId).Count(e => e.Str("type")!.StartsWith("connection.")) >= 4,
                TimeSpan.FromSeconds(60), "four connection events");
            Assert.Equal(expected, receiver.For(connectionId).Select(e => e.Str("type")).Where(t => t!.StartsWith("connection.")).ToArray());
            Assert.Equal(4, receiver.For(connectionId).Where(e => e.Str("type")!.StartsWith("connection.")).Select(e => e.Str("id")).Distinct().Count());

            // The failures are visible in the delivery log: five 500s (spread over the first events of the
            // session's and the connection's queues, which are delivered independently), then successes.
            // The session's queue may still be retrying when the connection's four events are in: wait until
            // every delivery has landed, so no attempt is in flight (sent but not yet logged) when we count.
            List<JsonObject> all = [];
            var settle = Stopwatch.StartNew();
            do
            {
                var deliveries = await Json.GetAsync(ApiA, $"v1/webhook-endpoints/{endpointId}/deliveries?limit=100");
                all = deliveries["data"]!.AsArray().Select(d => d!.AsObject()).ToList();
                if (all.Count > 0 && all.All(d => d.Str("status") == "delivered")) break;
                await Task.Delay(250, Cancel);
            }
            while (settle.Elapsed < TimeSpan.FromSeconds(60));
            Assert.Equal(5, all.Sum(d => d["attempt_log"]!.AsArray().Count(a => a!["status_code"]?.GetValue<int>() == 500)));
            Assert.Equal(5, all.Sum(d => d["attempts"]!.GetValue<int>()) - all.Count);
            Assert.All(all.Where(d => d.Str("aggregate_id") == connectionId && d.Str("event_type")!.StartsWith("connection.")),
                d => Assert.Equal("delivered", d.Str("status")));
        }
        finally
        {
            await DeleteEndpointAsync(endpointId);
        }
    }

    [Fact]
    public async Task Session_expiry_sends_patient_session_expired_and_the_session_stays_listable()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var endpointId = await RegisterAsync(receiver);
        try
        {
            var patient = NewPatientId("expiry");
            var session = await Flow.CreateSessionAsync(patient, expiresIn: 60);
            var sessionId = session.Str("id")!;
            // The expiry reminder fires at expires_at (60 s, the shortest a session may live).
            await receiver.WaitUntilAsync(r => r.For(sessionId).Count == 1, TimeSpan.FromSeconds(120), "patient_session.expired");
            var expired = receiver.For(sessionId).Single();
            Assert.Equal("patient_session.expired", expired.Str("type"));
            Assert.Equal("expired", expired["data"].Str("status"));
            Assert.True(JsonNode.DeepEquals(await Flow.GetSessionAsync(sessionId), expired["data"]));
            var list = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions?status=expired");
            Assert.Equal([sessionId], list["data"]!.AsArray().Select(s => s.Str("id")).ToList());
        }
        finally
        {
            await DeleteEndpointAsync(endpointId);
        }
    }

    [Fact]
    public async Task Webhook_endpoints_are_listed_deleted_and_validated_per_tenant()
    {
        using var bad = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url = "http://example.com/hooks" }, Cancel);
        var problem = await Json.ReadAsync(bad, HttpStatusCode.BadRequest);
        Assert.Equal("url", problem.Str("field"));

        using var created = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url = "https://app.example/hooks" }, Cancel);
        var endpoint = await Json.ReadAsync(created, HttpStatusCode.Created);
        var id = endpoint.Str("id")!;
        Assert.StartsWith("whe_", id);
        var list = await Json.GetAsync(ApiA, "v1/webhook-endpoints");
        Assert.Contains(list["data"]!.AsArray(), e => e.Str("id") == id && e!["secret"] is null);
        Assert.DoesNotContain((await Json.GetAsync(ApiB, "v1/webhook-endpoints"))["data"]!.AsArray(), e => e.Str("id") == id);
        using (var foreign = await ApiB.DeleteAsync($"v1/webhook-endpoints/{id}", Cancel)) Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        using (var foreign = await ApiB.GetAsync($"v1/webhook-endpoints/{id}/deliveries", Cancel)) Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        using (var deleted = await ApiA.DeleteAsync($"v1/webhook-endpoints/{id}", Cancel)) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.DoesNotContain((await Json.GetAsync(ApiA, "v1/webhook-endpoints"))["data"]!.AsArray(), e => e.Str("id") == id);
    }

    private async Task<string> RegisterAsync(WebhookReceiver receiver)
    {
        using var response = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url = receiver.Url }, Cancel);
        var created = await Json.ReadAsync(response, HttpStatusCode.Created);
        receiver.Secret = created.Str("secret");
        return created.Str("id")!;
    }

    private async Task DeleteEndpointAsync(string id)
    {
        using var _ = await ApiA.DeleteAsync($"v1/webhook-endpoints/{id}", CancellationToken.None);
    }
}

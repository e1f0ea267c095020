using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PatientConnect.Connections;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Sync;
using PatientConnect.EndToEnd.Tests.Tokens;
using PatientConnect.EndToEnd.Tests.Webhooks;

namespace PatientConnect.EndToEnd.Tests.Events;

/// <summary>
/// GET /v1/patients/{id}/events against a patient driven through its whole life: the history holds
/// each step once, in order, and its webhook events are exactly the ones the receiver got.
/// </summary>
[Collection(TokenCollection.Name)]
public sealed class PatientHistoryTests(TokenServices services) : EndToEndTest(services)
{
    private const string Hospital = "riverside";

    private sealed record Step(string Name, params string[] Types);

    [Fact]
    public async Task Connect_refresh_refused_refresh_reconnect_sync_and_disconnect_are_each_in_the_history_once_in_order_matching_the_webhooks()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        string endpointId;
        using (var created = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url = receiver.Url }, Cancel))
        {
            var endpoint = await Json.ReadAsync(created, HttpStatusCode.Created);
            receiver.Secret = endpoint.Str("secret");
            endpointId = endpoint.Str("id")!;
        }
        var patient = NewPatientId("history");
        var sandboxPatient = await SyncSupport.SmallestPatientAsync(Services, Hospital, 20, 300);
        try
        {
            // 1. connect (its first sync runs by itself)
            var (first, firstReturn) = await Flow.ConnectAsync(patient, Hospital, $"approve; patient={sandboxPatient.Id}");
            Assert.Equal("true", firstReturn["success"]);
            var connectionId = first.Str("connection_id")!;
            var synced = await SyncSupport.WaitForSyncAsync(ApiA, connectionId);
            var grain = Services.Cluster().GetGrain<IConnectionGrain>(connectionId);

            // 2. a refresh that succeeds
            var lease = await grain.GetAccess();
            Assert.NotNull(await grain.RefreshAfterRejected(lease!.AccessToken));

            // 3. a refresh the source refuses
            await SyncSupport.SetSandboxAsync(Services, Hospital, new { refresh = "invalid_grant" });
            try
            {
                lease = await grain.GetAccess();
                Assert.Null(await grain.RefreshAfterRejected(lease!.AccessToken));
            }
            finally
            {
                await SyncSupport.SetSandboxAsync(Services, Hospital, null);
            }

            // 4. reconnect through a new session (the same conn_ id; its sync runs by itself)
            var (second, secondReturn) = await Flow.ConnectAsync(patient, Hospital, $"approve; patient={sandboxPatient.Id}");
            Assert.Equal(connectionId, second.Str("connection_id"));
            synced = await SyncSupport.WaitForSyncAsync(ApiA, connectionId, DateTimeOffset.Parse(synced["sync"].Str("started_at")!));

            // 5. a sync on request
            using (var sync = await ApiA.PostAsync($"v1/connections/{connectionId}/sync", null, Cancel))
                Assert.Equal(HttpStatusCode.Accepted, sync.StatusCode);
            await SyncSupport.WaitForSyncAsync(ApiA, connectionId, DateTimeOffset.Parse(synced["sync"].Str("started_at")!));

            // 6. disconnect
            using (var delete = await ApiA.DeleteAsync($"v1/connections/{connectionId}", Cancel))
                Assert.Equal(HttpStatusCode.OK, delete.StatusCode);

            Step[] steps =
            [
                new("connect", "patient_session.completed", "connection.active", "records.sync.started", "records.sync.completed"),
                new("refresh", "connection.refreshed"),
                new("refused refresh", "connection.refresh_failed"),
                new("reconnect", "patient_session.completed", "connection.active", "records.sync.started", "records.sync.completed"),
                new("sync", "records.sync.started", "records.sync.completed"),
                new("disconnect", "connection.disconnected"),
            ];
            var sessions = new[] { first.Str("id")!, second.Str("id")! };
            var webhookCount = steps.SelectMany(s => s.Types).Count(t => t is not ("connection.refreshed" or "records.sync.started"));
            await receiver.WaitUntilAsync(r => sessions.Append(connectionId).Sum(id => r.For(id).Count) >= webhookCount,
                TimeSpan.FromSeconds(60), $"{webhookCount} webhooks");

            // The history, read in small pages through the cursor, then oldest first.
            var history = await AllEventsAsync(ApiA, patient, limit: 3);
            history.Reverse();
            Assert.Equal(history.Count, history.Select(e => e.Str("id")).Distinct().Count());
            Assert.Equal(steps.Sum(s => s.Types.Length), history.Count);

            // Each step once, in order: its events together, after the previous step's (within a step the
            // session's completion and the sync's start may race, so a step is compared as a set).
            var at = 0;
            foreach (var step in steps)
            {
                var slice = history.Skip(at).Take(step.Types.Length).Select(e => e.Str("type")!).Order(StringComparer.Ordinal).ToList();
                Assert.True(step.Types.Order(StringComparer.Ordinal).SequenceEqual(slice),
                    $"step '{step.Name}' expected [{string.Join(", ", step.Types)}], found [{string.Join(", ", slice)}] in\n{Describe(history)}");
                at += step.Types.Length;
            }
            // The connection's own events are strictly ordered.
            var connectionEvents = history.Where(e => e.Str("connection_id") == connectionId && !e.Str("type")!.StartsWith("patient_session.", StringComparison.Ordinal)).ToList();
            Assert.Equal(steps.SelectMany(s => s.Types).Where(t => !t.StartsWith("patient_session.", StringComparison.Ordinal)), connectionEvents.Select(e => e.Str("type")));

            // What each entry says.
            var statuses = connectionEvents.Where(e => !e.Str("type")!.StartsWith("records.", StringComparison.Ordinal))
                .Select(e => $"{e.Str("type")}:{e.Str("status_before") ?? "-"}>{e.Str("status_after")}").ToList();
            Assert.Equal(
                [
                    "connection.active:->active", "connection.refreshed:active>active", "connection.refresh_failed:active>refresh_failed",
                    "connection.active:refresh_failed>active", "connection.disconnected:active>disconnected",
                ],
                statuses);
            var refused = history.Single(e => e.Str("type") == "connection.refresh_failed");
            Assert.Equal("invalid_grant", refused.Str("failure_code"));
            Assert.False(string.IsNullOrEmpty(refused.Str("failure_description")));
            foreach (var completed in history.Where(e => e.Str("type") == "records.sync.completed"))
            {
                Assert.Equal("running", completed.Str("status_before"));
                Assert.Equal("completed", completed.Str("status_after"));
                Assert.True(completed["data"]!["sync"]!["counts"]!.AsObject().Count > 0, completed.ToJsonString());
            }
            var sessionEvents = history.Where(e => e.Str("type") == "patient_session.completed").ToList();
            Assert.Equal(sessions, sessionEvents.Select(e => e.Str("patient_session_id")));
            Assert.All(sessionEvents, e => Assert.Equal(("open", "complete", connectionId), (e.Str("status_before"), e.Str("status_after"), e.Str("connection_id"))));

            // One source of truth: the webhook events are exactly the history's webhook entries, same ids, same data.
            var received = sessions.Append(connectionId).SelectMany(receiver.For).ToDictionary(e => e.Str("id")!);
            var delivered = history.Where(e => e["webhook"]!.GetValue<bool>()).ToList();
            Assert.Equal(received.Keys.Order(StringComparer.Ordinal), delivered.Select(e => e.Str("id")!).Order(StringComparer.Ordinal));
            foreach (var entry in delivered)
            {
                Assert.Equal(received[entry.Str("id")!].Str("type"), entry.Str("type"));
                Assert.True(JsonNode.DeepEquals(received[entry.Str("id")!]["data"], entry["data"]), entry.Str("type"));
            }
            Assert.All(history.Where(e => !e["webhook"]!.GetValue<bool>()),
                e => Assert.Contains(e.Str("type"), new[] { "connection.refreshed", "records.sync.started" }));
            Assert.Equal(receiver.For(connectionId).Select(e => e.Str("id")),
                delivered.Where(e => e.Str("connection_id") == connectionId && !e.Str("type")!.StartsWith("patient_session.", StringComparison.Ordinal)).Select(e => e.Str("id")));

            // Filters: type (comma list) and since.
            var disconnects = await Json.GetAsync(ApiA, $"v1/patients/{patient}/events?type=connection.disconnected,connection.refresh_failed");
            Assert.Equal(["connection.disconnected", "connection.refresh_failed"], disconnects["data"]!.AsArray().Select(e => e.Str("type")));
            var sinceRefused = refused.Str("created_at")!;
            var recent = await AllEventsAsync(ApiA, patient, query: $"&since={Uri.EscapeDataString(sinceRefused)}");
            Assert.Equal(history.Count(e => DateTimeOffset.Parse(e.Str("created_at")!) >= DateTimeOffset.Parse(sinceRefused)), recent.Count);
            Assert.Contains(recent, e => e.Str("type") == "connection.refresh_failed");
            Assert.DoesNotContain(recent, e => e.Str("type") == "connection.refreshed");

            // Tenant isolation and validation.
            // Another tenant has no such patient (none of its sessions): 404, as for one it never had.
            using (var foreign = await ApiB.GetAsync($"v1/patients/{patient}/events", Cancel)) Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
            foreach (var (query, field) in new[] { ("type=connection.exploded", "type"), ("since=yesterday", "since"), ("limit=0", "limit"), ("cursor=nope", "cursor") })
            {
                using var bad = await ApiA.GetAsync($"v1/patients/{patient}/events?{query}", Cancel);
                var problem = await Json.ReadAsync(bad, HttpStatusCode.BadRequest);
                Assert.Equal(field, problem.Str("field"));
            }
        }
        finally
        {
            using var _ = await ApiA.DeleteAsync($"v1/webhook-endpoints/{endpointId}", CancellationToken.None);
        }
    }

    private static async Task<List<JsonObject>> AllEventsAsync(HttpClient api, string patient, int limit = 100, string query = "")
    {
        var all = new List<JsonObject>();
        string? cursor = null;
        for (var page = 0; page < 1000; page++)
        {
            var body = await Json.GetAsync(api, $"v1/patients/{patient}/events?limit={limit}{query}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            var data = body["data"]!.AsArray().Select(e => e!.AsObject()).ToList();
            Assert.True(data.Count <= limit);
            all.AddRange(data);
            cursor = body.Str("next_cursor");
            if (cursor is null) return all;
        }
        throw new InvalidOperationException("the history never ended");
    }

    private static string Describe(IEnumerable<JsonObject> history) =>
        string.Join("\n", history.Select(e => $"  {e.Str("created_at")} {e.Str("type")} {e.Str("status_before")}>{e.Str("status_after")}"));
}

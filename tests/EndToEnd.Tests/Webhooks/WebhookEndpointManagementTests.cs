using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Tokens;

namespace PatientConnect.EndToEnd.Tests.Webhooks;

/// <summary>Secret rotation with an overlap, the event-type filter, enable/disable, replay, paging, and their refusals.</summary>
[Collection(TokenCollection.Name)]
public sealed class WebhookEndpointManagementTests(TokenServices services) : EndToEndTest(services)
{
    [Fact]
    public async Task During_the_overlap_a_receiver_holding_either_secret_verifies_every_event_and_after_it_only_the_new_one()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (endpointId, first) = await RegisterAsync(receiver.Url);
        try
        {
            var second = await RotateAsync(endpointId, new { overlap_seconds = 3600 });
            Assert.NotEqual(first, second);
            var endpoint = await Json.GetAsync(ApiA, $"v1/webhook-endpoints/{endpointId}");
            Assert.NotNull(endpoint.Str("secret_rotated_at"));
            var until = DateTime.Parse(endpoint.Str("previous_secret_expires_at")!, null, System.Globalization.DateTimeStyles.RoundtripKind);
            Assert.InRange(until - DateTime.UtcNow, TimeSpan.FromMinutes(55), TimeSpan.FromMinutes(61));
            Assert.Null(endpoint["secret"]);

            // The receiver holds both: each event must verify with the first AND with the second, separately.
            receiver.CheckSecrets = [first, second];
            var (session, _) = await Flow.ConnectAsync(NewPatientId("rotate"), "summit");
            var connectionId = session.Str("connection_id")!;
            using (var deleted = await ApiA.DeleteAsync($"v1/connections/{connectionId}", Cancel)) Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            await receiver.WaitUntilAsync(r => r.For(session.Str("id")!).Count == 1
                    && r.For(connectionId).Any(e => e.Str("type") == "connection.disconnected"),
                TimeSpan.FromSeconds(60), "the session's and the connection's events");
            var during = receiver.For(session.Str("id")!).Concat(receiver.For(connectionId)).ToList();
            Assert.True(during.Count >= 3, $"{during.Count} events");
            Assert.All(during, e =>
            {
                Assert.Equal(2, e["_signatures"]!.GetValue<int>());
                Assert.Equal([0, 1], e["_verified_by"]!.AsArray().Select(i => i!.GetValue<int>()).ToArray());
            });

            // A second rotation with a one-second overlap: the first secret is gone at once (only two ever
            // sign), the second stops after the overlap, and then only the third verifies.
            var third = await RotateAsync(endpointId, new { overlap_seconds = 1 });
            await Task.Delay(TimeSpan.FromSeconds(2), Cancel);
            receiver.CheckSecrets = [first, second, third];
            var (later, _) = await Flow.ConnectAsync(NewPatientId("rotated"), "summit");
            await receiver.WaitUntilAsync(r => r.For(later.Str("id")!).Count == 1, TimeSpan.FromSeconds(60), "the later session's event");
            var after = receiver.For(later.Str("id")!).Single();
            Assert.Equal(1, after["_signatures"]!.GetValue<int>());
            Assert.Equal([2], after["_verified_by"]!.AsArray().Select(i => i!.GetValue<int>()).ToArray());
            Assert.Null((await Json.GetAsync(ApiA, $"v1/webhook-endpoints/{endpointId}"))["previous_secret_expires_at"]);
            Assert.Equal(0, receiver.BadSignatures);

            // Overlap 0 retires the current secret at once.
            var fourth = await RotateAsync(endpointId, new { overlap_seconds = 0 });
            receiver.CheckSecrets = [third, fourth];
            var (last, _) = await Flow.ConnectAsync(NewPatientId("rotated0"), "summit");
            await receiver.WaitUntilAsync(r => r.For(last.Str("id")!).Count == 1, TimeSpan.FromSeconds(60), "the last session's event");
            Assert.Equal([1], receiver.For(last.Str("id")!).Single()["_verified_by"]!.AsArray().Select(i => i!.GetValue<int>()).ToArray());
        }
        finally
        {
            await DeleteEndpointAsync(endpointId);
        }
    }

    [Fact]
    public async Task Filtered_endpoint_gets_only_its_types_a_disabled_one_nothing_and_replay_resends_the_stored_events_with_their_ids()
    {
        var startedAt = DateTime.UtcNow.AddSeconds(-1);
        await using var all = await WebhookReceiver.StartAsync();
        await using var filtered = await WebhookReceiver.StartAsync();
        var (allId, allSecret) = await RegisterAsync(all.Url);
        all.Secret = allSecret;
        using var create = await ApiA.PostAsJsonAsync("v1/webhook-endpoints",
            new { url = filtered.Url, event_types = new[] { "connection.disconnected", "connection.active", "connection.active" } }, Cancel);
        var created = await Json.ReadAsync(create, HttpStatusCode.Created);
        var filteredId = created.Str("id")!;
        filtered.Secret = created.Str("secret");
        try
        {
            Assert.Equal(["connection.active", "connection.disconnected"], created["event_types"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray());
            Assert.True(created["enabled"]!.GetValue<bool>());
            using (var patch = await PatchAsync(filteredId, new { event_types = new[] { "connection.disconnected" } }))
            {
                var updated = await Json.ReadAsync(patch, HttpStatusCode.OK);
                Assert.Equal(["connection.disconnected"], updated["event_types"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray());
            }

            var patient = NewPatientId("filter");
            var (session, _) = await Flow.ConnectAsync(patient, "summit");
            var connectionId = session.Str("connection_id")!;
            using (var deleted = await ApiA.DeleteAsync($"v1/connections/{connectionId}", Cancel)) Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            await all.WaitUntilAsync(r => r.For(connectionId).Any(e => e.Str("type") == "connection.disconnected") && r.For(session.Str("id")!).Count == 1,
                TimeSpan.FromSeconds(60), "every event at the unfiltered endpoint");
            await filtered.WaitUntilAsync(r => r.For(connectionId).Count == 1, TimeSpan.FromSeconds(30), "the disconnect at the filtered endpoint");
            var firstDisconnect = filtered.For(connectionId).Single();
            Assert.Equal("connection.disconnected", firstDisconnect.Str("type"));
            Assert.Empty(filtered.For(session.Str("id")!));

            // Disabled: the next connect and disconnect reach the unfiltered endpoint only.
            using (var patch = await PatchAsync(filteredId, new { enabled = false }))
            {
                Assert.False((await Json.ReadAsync(patch, HttpStatusCode.OK))["enabled"]!.GetValue<bool>());
            }
            await Flow.ConnectAsync(patient, "summit");
            using (var deleted = await ApiA.DeleteAsync($"v1/connections/{connectionId}", Cancel)) Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            await all.WaitUntilAsync(r => r.For(connectionId).Count(e => e.Str("type") == "connection.disconnected") == 2,
                TimeSpan.FromSeconds(60), "the second disconnect at the unfiltered endpoint");
            var secondDisconnect = all.For(connectionId).Last(e => e.Str("type") == "connection.disconnected");
            await Task.Delay(TimeSpan.FromSeconds(2), Cancel);
            Assert.Single(filtered.For(connectionId));

            // Enabled again, then a replay since the test began: both disconnects (not the other types),
            // with their original event ids, in order; the first for the second time.
            using (var patch = await PatchAsync(filteredId, new { enabled = true })) Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
            using var replay = await ApiA.PostAsJsonAsync($"v1/webhook-endpoints/{filteredId}/replay",
                new { since = startedAt.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture) }, Cancel);
            var replayed = await Json.ReadAsync(replay, HttpStatusCode.Accepted);
            Assert.Equal(filteredId, replayed.Str("endpoint_id"));
            Assert.True(replayed["events"]!.GetValue<int>() >= 2, replayed.ToJsonString());
            await filtered.WaitUntilAsync(r => r.For(connectionId).Count == 3, TimeSpan.FromSeconds(60), "the replayed disconnects");
            Assert.Equal([firstDisconnect.Str("id"), firstDisconnect.Str("id"), secondDisconnect.Str("id")],
                filtered.For(connectionId).Select(e => e.Str("id")).ToArray());
            Assert.All(filtered.For(connectionId), e => Assert.Equal("connection.disconnected", e.Str("type")));
            Assert.Empty(filtered.For(session.Str("id")!));
            Assert.Equal(0, filtered.BadSignatures);
        }
        finally
        {
            await DeleteEndpointAsync(allId);
            await DeleteEndpointAsync(filteredId);
        }
    }

    [Fact]
    public async Task Endpoints_page_with_a_cursor_and_bad_input_or_foreign_ids_are_refused()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await RegisterAsync($"https://app.example/hooks/{i}")).Id);
        try
        {
            var seen = new List<string>();
            string? cursor = null;
            var pages = 0;
            do
            {
                var page = await Json.GetAsync(ApiA, "v1/webhook-endpoints?limit=1" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
                Assert.True(page["data"]!.AsArray().Count <= 1);
                seen.AddRange(page["data"]!.AsArray().Select(e => e.Str("id")!));
                cursor = page.Str("next_cursor");
                pages++;
            }
            while (cursor is not null && pages < 1000);
            Assert.Equal(seen.Count, seen.Distinct().Count());
            Assert.Subset(seen.ToHashSet(), ids.ToHashSet());

            var id = ids[0];
            async Task Refused(HttpResponseMessage response, string field)
            {
                using (response) Assert.Equal(field, (await Json.ReadAsync(response, HttpStatusCode.BadRequest)).Str("field"));
            }
            await Refused(await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url = "https://app.example/x", event_types = new[] { "connection.refreshed" } }, Cancel), "event_types");
            await Refused(await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url = "https://app.example/x", event_types = Array.Empty<string>() }, Cancel), "event_types");
            await Refused(await PatchAsync(id, new { enabled = "no" }), "enabled");
            await Refused(await PatchAsync(id, new { url = "https://app.example/y" }), "url");
            await Refused(await PatchAsync(id, new { }), "body");
            await Refused(await ApiA.PostAsJsonAsync($"v1/webhook-endpoints/{id}/rotate-secret", new { overlap_seconds = -1 }, Cancel), "overlap_seconds");
            await Refused(await ApiA.PostAsJsonAsync($"v1/webhook-endpoints/{id}/rotate-secret", new { overlap_seconds = 604801 }, Cancel), "overlap_seconds");
            await Refused(await ApiA.PostAsJsonAsync($"v1/webhook-endpoints/{id}/replay", new { }, Cancel), "since");
            await Refused(await ApiA.PostAsJsonAsync($"v1/webhook-endpoints/{id}/replay", new { since = "yesterday" }, Cancel), "since");
            // Nothing half-written: the endpoint is as it was.
            var unchanged = await Json.GetAsync(ApiA, $"v1/webhook-endpoints/{id}");
            Assert.True(unchanged["enabled"]!.GetValue<bool>());
            Assert.Null(unchanged["event_types"]);
            Assert.Null(unchanged["secret_rotated_at"]);

            // Tenant B sees none of it.
            using (var r = await ApiB.GetAsync($"v1/webhook-endpoints/{id}", Cancel)) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            using (var r = await ApiB.PatchAsJsonAsync($"v1/webhook-endpoints/{id}", new { enabled = false }, Cancel)) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            using (var r = await ApiB.PostAsync($"v1/webhook-endpoints/{id}/rotate-secret", null, Cancel)) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            using (var r = await ApiB.PostAsJsonAsync($"v1/webhook-endpoints/{id}/replay", new { since = "2020-01-01T00:00:00Z" }, Cancel))
                Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.True((await Json.GetAsync(ApiA, $"v1/webhook-endpoints/{id}"))["enabled"]!.GetValue<bool>());

            // A rotation without a body takes the configured overlap (24 h), and a retried one (same key) answers the same secret.
            using var rotate = new HttpRequestMessage(HttpMethod.Post, $"v1/webhook-endpoints/{id}/rotate-secret");
            rotate.Headers.Add("Idempotency-Key", "rotate-" + Guid.NewGuid());
            using var rotated = await ApiA.SendAsync(rotate, Cancel);
            var answer = await Json.ReadAsync(rotated, HttpStatusCode.OK);
            var until = DateTime.Parse(answer.Str("previous_secret_expires_at")!, null, System.Globalization.DateTimeStyles.RoundtripKind);
            Assert.InRange(until - DateTime.UtcNow, TimeSpan.FromHours(23.9), TimeSpan.FromHours(24.1));
            using var again = new HttpRequestMessage(HttpMethod.Post, $"v1/webhook-endpoints/{id}/rotate-secret");
            again.Headers.Add("Idempotency-Key", rotate.Headers.GetValues("Idempotency-Key").Single());
            using var replayedRotation = await ApiA.SendAsync(again, Cancel);
            Assert.Equal(answer.Str("secret"), (await Json.ReadAsync(replayedRotation, HttpStatusCode.OK)).Str("secret"));
        }
        finally
        {
            foreach (var id in ids) await DeleteEndpointAsync(id);
        }
    }

    [Fact]
    public async Task Webhook_endpoint_routes_are_in_the_openapi_document_with_examples()
    {
        var document = await Json.GetAsync(Anonymous, "openapi/v1.json");
        var paths = document["paths"]!.AsObject();
        var one = paths["/v1/webhook-endpoints/{id}"]!;
        Assert.NotNull(one["get"]);
        Assert.False(one["patch"]!["requestBody"]!["content"]!["application/json"]!["example"]!["enabled"]!.GetValue<bool>());
        Assert.NotNull(one["patch"]!["responses"]!["200"]!["content"]!["application/json"]!["example"]!["event_types"]);
        var rotate = paths["/v1/webhook-endpoints/{id}/rotate-secret"]!["post"]!;
        Assert.StartsWith("whsec_", rotate["responses"]!["200"]!["content"]!["application/json"]!["example"].Str("secret"));
        Assert.NotNull(rotate["requestBody"]!["content"]!["application/json"]!["example"]!["overlap_seconds"]);
        var replay = paths["/v1/webhook-endpoints/{id}/replay"]!["post"]!;
        Assert.NotNull(replay["requestBody"]!["content"]!["application/json"]!["example"].Str("since"));
        Assert.NotNull(replay["responses"]!["202"]!["content"]!["application/json"]!["example"]!["events"]);
        Assert.NotNull(paths["/v1/webhook-endpoints"]!["post"]!["requestBody"]!["content"]!["application/json"]!["example"]!["event_types"]);
    }

    private async Task<(string Id, string Secret)> RegisterAsync(string url)
    {
        using var response = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url }, Cancel);
        var created = await Json.ReadAsync(response, HttpStatusCode.Created);
        Assert.Null(created["event_types"]);
        return (created.Str("id")!, created.Str("secret")!);
    }

    private async Task<string> RotateAsync(string endpointId, object body)
    {
        using var response = await ApiA.PostAsJsonAsync($"v1/webhook-endpoints/{endpointId}/rotate-secret", body, Cancel);
        var rotated = await Json.ReadAsync(response, HttpStatusCode.OK);
        Assert.Equal(endpointId, rotated.Str("id"));
        return rotated.Str("secret")!;
    }

    private Task<HttpResponseMessage> PatchAsync(string endpointId, object body) =>
        ApiA.PatchAsJsonAsync($"v1/webhook-endpoints/{endpointId}", body, Cancel);

    private async Task DeleteEndpointAsync(string id)
    {
        using var _ = await ApiA.DeleteAsync($"v1/webhook-endpoints/{id}", CancellationToken.None);
    }
}

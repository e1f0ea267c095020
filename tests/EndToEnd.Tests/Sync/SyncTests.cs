using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Sync;

/// <summary>
/// Record sync against the real sandbox over HTTP, on the shared service: one sandbox patient per
/// hospital profile is connected and its chart must arrive exactly (the sandbox's resource_counts),
/// each record once, attachments included; a second sync changes nothing.
/// </summary>
public sealed class SyncTests(ServiceProcesses services) : EndToEndTest(services)
{
    /// <summary>A mid-sized patient (not the big one): with notes where the profile has them.</summary>
    private async Task<SandboxPatient> PickPatientAsync(string hospital, int minimum = 40)
    {
        var patients = await SyncSupport.SandboxPatientsAsync(Services, hospital);
        return patients
            .Where(p => p.Total >= minimum && p.Total <= 600)
            .OrderByDescending(p => p.ResourceCounts.GetValueOrDefault("DocumentReference") > 0)
            .ThenBy(p => p.Total)
            .First();
    }

    [Theory]
    [InlineData("riverside")]
    [InlineData("lakeside")]
    [InlineData("summit")]
    public async Task Sync_stores_exactly_the_sandbox_records_and_a_second_sync_changes_no_count(string hospital)
    {
        var expected = await PickPatientAsync(hospital);
        var patient = NewPatientId(hospital);
        var connectionId = await SyncSupport.ConnectAsync(Flow, patient, hospital, expected.Id);

        var connection = await SyncSupport.WaitForSyncAsync(ApiA, connectionId);
        var sync = connection["sync"]!;
        Assert.Equal("completed", sync.Str("status"));
        Assert.Null(sync.Str("error"));
        Assert.NotNull(sync.Str("completed_at"));
        Assert.True(sync["resources_fetched"]!.GetValue<long>() >= expected.Total);

        var records = await SyncSupport.AllRecordsAsync(ApiA, patient, $"&connection_id={connectionId}");
        SyncSupport.AssertSameAsSandbox(expected, records);
        AssertAttachmentsStored(records);
        var firstKeys = records.Select(Key).Order(StringComparer.Ordinal).ToList();

        // A second sync (incremental now: the connection has synced before) updates, never duplicates.
        using (var again = await ApiA.PostAsync($"v1/connections/{connectionId}/sync", null, Cancel))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        }
        var previousStart = DateTimeOffset.Parse(sync.Str("started_at")!);
        var second = await SyncSupport.WaitForSyncAsync(ApiA, connectionId, startedAfter: previousStart);
        Assert.Equal("completed", second["sync"].Str("status"));
        var after = await SyncSupport.AllRecordsAsync(ApiA, patient, $"&connection_id={connectionId}");
        Assert.Equal(firstKeys, after.Select(Key).Order(StringComparer.Ordinal).ToList());
        SyncSupport.AssertSameAsSandbox(expected, after);
    }

    private static string Key(JsonObject record) => $"{record.Str("resourceType")}/{record.Str("id")}";

    /// <summary>Every DocumentReference attachment is held as a Binary whose bytes match the attachment's SHA-1.</summary>
    private static void AssertAttachmentsStored(IReadOnlyList<JsonObject> records)
    {
        var binaries = records.Where(r => r.Str("resourceType") == "Binary").ToDictionary(r => r.Str("id")!, StringComparer.Ordinal);
        var attachments = records.Where(r => r.Str("resourceType") == "DocumentReference")
            .SelectMany(d => d["content"]!.AsArray().Select(c => c!["attachment"]!.AsObject()))
            .ToList();
        Assert.Equal(attachments.Count, binaries.Count);
        foreach (var attachment in attachments)
        {
            var id = attachment.Str("url")!.Split('/')[^1];
            Assert.True(binaries.TryGetValue(id, out var binary), $"attachment {id} not stored");
            Assert.Equal(attachment.Str("contentType"), binary!.Str("contentType"));
            var data = Convert.FromBase64String(binary.Str("data")!);
            Assert.NotEmpty(data);
            if (attachment.Str("hash") is { } hash) Assert.Equal(hash, Convert.ToBase64String(SHA1.HashData(data)));
        }
    }

    [Fact]
    public async Task Records_api_pages_by_keyset_filters_and_isolates_tenants()
    {
        var expected = await PickPatientAsync("lakeside", minimum: 30);
        var patient = NewPatientId("records");
        var connectionId = await SyncSupport.ConnectAsync(Flow, patient, "lakeside", expected.Id);
        Assert.Equal("completed", (await SyncSupport.WaitForSyncAsync(ApiA, connectionId))["sync"].Str("status"));

        var all = await SyncSupport.AllRecordsAsync(ApiA, patient);
        var small = await SyncSupport.AllRecordsAsync(ApiA, patient, limit: 7);
        Assert.Equal(all.Select(Key).ToList(), small.Select(Key).ToList());
        Assert.Equal(all.Count, all.Select(Key).Distinct().Count());

        var first = await Json.GetAsync(ApiA, $"v1/patients/{patient}/records");
        Assert.Equal(Math.Min(50, all.Count), first["data"]!.AsArray().Count);

        var observations = await SyncSupport.AllRecordsAsync(ApiA, patient, "&type=Observation");
        Assert.Equal(expected.ResourceCounts["Observation"], observations.Count);
        Assert.All(observations, o => Assert.Equal("Observation", o.Str("resourceType")));

        Assert.Empty((await Json.GetAsync(ApiA, $"v1/patients/{patient}/records?since=2999-01-01T00:00:00Z"))["data"]!.AsArray());
        var since = await SyncSupport.AllRecordsAsync(ApiA, patient, "&type=Observation&since=1900-01-01T00:00:00Z");
        Assert.Equal(observations.Count, since.Count);
        var other = "conn_" + new string('a', 32);
        Assert.Empty((await Json.GetAsync(ApiA, $"v1/patients/{patient}/records?connection_id={other}"))["data"]!.AsArray());

        var one = observations[0];
        var read = await Json.GetAsync(ApiA, $"v1/patients/{patient}/records/Observation/{one.Str("id")}");
        Assert.Equal(one.ToJsonString(), read.ToJsonString());
        using (var missing = await ApiA.GetAsync($"v1/patients/{patient}/records/Observation/no-such-id", Cancel))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        }

        // Another tenant sees nothing of this patient: 404s, as for a patient it never had (a patient exists from its first session).
        using (var foreign = await ApiB.GetAsync($"v1/patients/{patient}/records", Cancel)) Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        using (var foreign = await ApiB.GetAsync($"v1/patients/{patient}/records/Observation/{one.Str("id")}", Cancel))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }

        foreach (var (query, field) in new[]
                 {
                     ("type=observation", "type"), ("limit=0", "limit"), ("limit=101", "limit"), ("since=yesterday", "since"),
                     ("connection_id=nope", "connection_id"), ("cursor=%21%21garbage", "cursor"),
                 })
        {
            using var bad = await ApiA.GetAsync($"v1/patients/{patient}/records?{query}", Cancel);
            var problem = await Json.ReadAsync(bad, HttpStatusCode.BadRequest);
            Assert.Equal(field, problem.Str("field"));
        }
    }

    [Fact]
    public async Task Sessions_and_connections_stay_readable_while_20_syncs_run()
    {
        var sandbox = (await SyncSupport.SandboxPatientsAsync(Services, "riverside"))
            .Where(p => p.Total is >= 20 and <= 600).Take(20).ToList();
        var connections = new List<(string Patient, string Connection, string Session)>();
        for (var i = 0; i < 20; i++)
        {
            var patient = NewPatientId($"load{i}");
            // Connecting is the set-up here, not the behaviour under test: on a loaded machine a token
            // exchange can time out (ehr_error), and a new session is what an app would do then.
            for (var attempt = 1; ; attempt++)
            {
                var (session, query) = await Flow.ConnectAsync(patient, "riverside", $"approve; patient={sandbox[i % sandbox.Count].Id}");
                if (query["success"] == "true")
                {
                    connections.Add((patient, session.Str("connection_id")!, session.Str("id")!));
                    break;
                }
                Assert.True(attempt < 3, $"connect failed 3 times: {query}");
            }
        }

        // All 20 syncing at once (each connection's first sync may still be going; then a new one).
        var starts = connections.Select(async c =>
        {
            using var response = await ApiA.PostAsync($"v1/connections/{c.Connection}/sync", null, Cancel);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        });
        await Task.WhenAll(starts);

        var slowest = TimeSpan.Zero;
        var reads = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        using var reader = Services.ApiClient(Services.ApiKeyA);
        reader.Timeout = TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            var running = 0;
            foreach (var c in connections)
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var connection = await Json.GetAsync(reader, $"v1/connections/{c.Connection}");
                await Json.GetAsync(reader, $"v1/patient-sessions/{c.Session}");
                watch.Stop();
                reads += 2;
                if (watch.Elapsed > slowest) slowest = watch.Elapsed;
                if (connection["sync"].Str("status") is "running" or "pending") running++;
            }
            if (running == 0) break;
        }
        Assert.True(slowest < TimeSpan.FromSeconds(2), $"slowest session+connection read took {slowest}");

        foreach (var c in connections)
        {
            var done = await SyncSupport.WaitForSyncAsync(ApiA, c.Connection);
            Assert.Equal("completed", done["sync"].Str("status"));
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{reads} reads while syncing, slowest pair {slowest.TotalMilliseconds:F0} ms");
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Sync;

/// <summary>
/// A service of its own (its own sandbox, database and silo): these tests turn the sandbox's fault
/// knobs and kill the silo, which the shared service's other tests must never see.
/// </summary>
public sealed class SyncFaultServices : ServiceProcesses
{
    protected override void AddSiloEnvironment(Dictionary<string, string> env)
    {
        // Fewer retries than production, so a permanent fault ends the sync in seconds; still
        // enough that the transient faults below are ridden out.
        env["PatientConnect__Sync__MaxRetries"] = "6";
        env["PatientConnect__Sync__MaxRetryDelay"] = "00:00:03";
    }
}

public sealed class SyncFaultTests(SyncFaultServices services) : EndToEndTest(services), IClassFixture<SyncFaultServices>
{
    private Task<SandboxPatient> PatientAsync(string hospital, int minimum, int maximum) =>
        SyncSupport.SmallestPatientAsync(Services, hospital, minimum, maximum);

    private async Task<SandboxPatient> LargestAsync(string hospital) =>
        (await SyncSupport.SandboxPatientsAsync(Services, hospital)).OrderByDescending(p => p.Total).First();

    [Fact]
    public async Task Sync_completes_exactly_through_rate_limits_server_errors_and_latency()
    {
        var expected = await PatientAsync("lakeside", 80, 800);
        await SyncSupport.SetSandboxAsync(Services, "lakeside", new { rate_limit_every_n = 6, error_rate = 0.15, latency_ms = 25, page_size = 40 });
        try
        {
            var patient = NewPatientId("faults");
            var connectionId = await SyncSupport.ConnectAsync(Flow, patient, "lakeside", expected.Id);
            var connection = await SyncSupport.WaitForSyncAsync(ApiA, connectionId);
            Assert.True(connection["sync"].Str("status") == "completed", connection.ToJsonString());
            var records = await SyncSupport.AllRecordsAsync(ApiA, patient);
            SyncSupport.AssertSameAsSandbox(expected, records);

            var checkpoint = await SyncSupport.SyncCheckpointAsync(Services, connectionId);
            Assert.NotNull(checkpoint);
            TestContext.Current.TestOutputHelper?.WriteLine($"pages {checkpoint["PagesFetched"]}, requests {checkpoint["Requests"]}");
        }
        finally
        {
            await SyncSupport.SetSandboxAsync(Services, "lakeside", null);
        }
    }

    [Fact]
    public async Task A_source_that_stays_down_fails_the_sync_with_a_reason()
    {
        var expected = await PatientAsync("summit", 10, 400);
        await SyncSupport.SetSandboxAsync(Services, "summit", new { error_rate = 1.0 });
        try
        {
            var patient = NewPatientId("down");
            var connectionId = await SyncSupport.ConnectAsync(Flow, patient, "summit", expected.Id);
            var connection = await SyncSupport.WaitForSyncAsync(ApiA, connectionId, timeout: TimeSpan.FromSeconds(90));
            var sync = connection["sync"]!;
            Assert.Equal("failed", sync.Str("status"));
            Assert.StartsWith("source_unavailable", sync.Str("error"));
            Assert.Equal("active", connection.Str("status"));
        }
        finally
        {
            await SyncSupport.SetSandboxAsync(Services, "summit", null);
        }
    }

    [Fact]
    public async Task Silo_killed_mid_sync_resumes_from_its_checkpoint_and_loses_or_duplicates_nothing()
    {
        var expected = await LargestAsync("riverside");
        var patient = NewPatientId("crash");
        JsonObject? atKill;
        string connectionId;
        await SyncSupport.SetSandboxAsync(Services, "riverside", new { latency_ms = 120 });
        try
        {
            connectionId = await SyncSupport.ConnectAsync(Flow, patient, "riverside", expected.Id);

            // Until the checkpoint shows real progress, then a crash: SIGKILL, no deactivation.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (true)
            {
                atKill = await SyncSupport.SyncCheckpointAsync(Services, connectionId);
                if (atKill?["PagesFetched"]?.GetValue<int>() >= 8) break;
                Assert.True(DateTime.UtcNow < deadline, $"no progress: {atKill?.ToJsonString()}");
                await Task.Delay(100, Cancel);
            }
            Services.KillSilo(0);
            Services.StartSilo(0);
            await Services.WaitForActiveSilosAsync(1);
            await Services.WaitForReadyAsync();

            // Nobody calls the sync grain: its reminder has to bring it back.
            var connection = await SyncSupport.WaitForSyncAsync(ApiA, connectionId, timeout: TimeSpan.FromSeconds(180));
            Assert.True(connection["sync"].Str("status") == "completed", connection.ToJsonString());
        }
        finally
        {
            await SyncSupport.SetSandboxAsync(Services, "riverside", null);
        }

        var records = await SyncSupport.AllRecordsAsync(ApiA, patient);
        SyncSupport.AssertSameAsSandbox(expected, records);

        var resumed = (await SyncSupport.SyncCheckpointAsync(Services, connectionId))!;
        var pagesAtKill = atKill!["PagesFetched"]!.GetValue<int>();
        Assert.True(resumed["LoopStarts"]!.GetValue<int>() >= 2, resumed.ToJsonString());
        var pagesAtResume = resumed["PagesAtResume"]!.AsArray().Select(p => p!.GetValue<int>()).ToList();
        Assert.True(pagesAtResume[0] >= pagesAtKill, $"resumed at {pagesAtResume[0]} pages, {pagesAtKill} were checkpointed before the kill");

        // The same patient without a crash: the resumed run fetched no more pages than an
        // uninterrupted one, beyond the few that were in flight at the kill (a restart from scratch
        // would have fetched every page before the kill twice).
        var control = NewPatientId("control");
        var controlConnection = await SyncSupport.ConnectAsync(Flow, control, "riverside", expected.Id);
        Assert.Equal("completed", (await SyncSupport.WaitForSyncAsync(ApiA, controlConnection))["sync"].Str("status"));
        var full = (await SyncSupport.SyncCheckpointAsync(Services, controlConnection))!["PagesFetched"]!.GetValue<int>();
        var total = resumed["PagesFetched"]!.GetValue<int>();
        TestContext.Current.TestOutputHelper?.WriteLine($"kill after {pagesAtKill} pages; resumed run {total} pages; uninterrupted run {full} pages");
        Assert.True(total <= full + 8, $"resumed run fetched {total} pages, an uninterrupted one {full}");
        Assert.True(total >= full, $"resumed run fetched {total} pages, fewer than an uninterrupted one ({full})");
    }

    [Fact]
    public async Task Progress_shows_in_the_api_and_the_dashboard_while_the_sync_runs()
    {
        var expected = await LargestAsync("riverside");
        var patient = NewPatientId("progress");
        // Slow enough that the run lasts several seconds, so there is a "while" to look at.
        await SyncSupport.SetSandboxAsync(Services, "riverside", new { latency_ms = 100 });
        string connectionId;
        try
        {
            connectionId = await SyncSupport.ConnectAsync(Flow, patient, "riverside", expected.Id);

            // The API: the connection's sync object, running, with a count that grows.
            var first = await RunningSyncAsync(connectionId, minimumFetched: 1);
            var firstFetched = first["resources_fetched"]!.GetValue<long>();
            Assert.NotNull(first.Str("started_at"));
            Assert.Null(first["completed_at"]);
            var later = await RunningSyncAsync(connectionId, minimumFetched: firstFetched + 1);
            Assert.True(later["resources_fetched"]!.GetValue<long>() > firstFetched, later.ToJsonString());
            Assert.True(later["counts"]!.AsObject().Count > 0, later.ToJsonString());

            // The dashboard's Grain State page (operator credential) shows the same run of that connection.
            using var request = new HttpRequestMessage(HttpMethod.Get,
                $"dashboard/GrainState?grainId={connectionId}&grainType=PatientConnect.Grains.Sync.SyncGrain");
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ServiceProcesses.AdminUser}:{Services.AdminPassword}")));
            using var response = await Anonymous.SendAsync(request, Cancel);
            var body = await response.Content.ReadAsStringAsync(Cancel);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
            // The page's endpoint answers the grain's state as a JSON document inside a JSON string.
            var root = JsonNode.Parse(body)!;
            var document = root.GetValueKind() == System.Text.Json.JsonValueKind.String ? JsonNode.Parse(root.GetValue<string>())! : root;
            var shown = document["GetState"];
            Assert.True(shown is not null, body);
            Assert.True(shown["ResourcesFetched"]!.GetValue<long>() >= firstFetched, body);
            Assert.Null(shown["CompletedAt"]);
        }
        finally
        {
            await SyncSupport.SetSandboxAsync(Services, "riverside", null);
        }
        var done = await SyncSupport.WaitForSyncAsync(ApiA, connectionId, timeout: TimeSpan.FromSeconds(180));
        Assert.True(done["sync"].Str("status") == "completed", done.ToJsonString());
    }

    /// <summary>The connection's sync object once it is running with at least that many resources fetched.</summary>
    private async Task<JsonObject> RunningSyncAsync(string connectionId, long minimumFetched)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        JsonObject? sync = null;
        while (DateTime.UtcNow < deadline)
        {
            sync = (await Json.GetAsync(ApiA, $"v1/connections/{connectionId}"))["sync"]!.AsObject();
            Assert.True(sync.Str("status") is "pending" or "running", $"the sync ended before it could be watched: {sync.ToJsonString()}");
            if (sync.Str("status") == "running" && sync["resources_fetched"]!.GetValue<long>() >= minimumFetched) return sync;
            await Task.Delay(100, Cancel);
        }
        throw new TimeoutException($"no running progress: {sync?.ToJsonString()}");
    }
}

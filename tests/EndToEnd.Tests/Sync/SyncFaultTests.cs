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
    private async Task<SandboxPatient> PatientAsync(string hospital, int minimum, int maximum)
    {
        var patients = await SyncSupport.SandboxPatientsAsync(Services, hospital);
        return patients.Where(p => p.Total >= minimum && p.Total <= maximum).OrderBy(p => p.Total).First();
    }

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
}

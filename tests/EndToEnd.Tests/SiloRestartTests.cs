using System.Net;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>
/// Two silos on one Postgres. A session opened before a crash (SIGKILL, no goodbye) completes after
/// it: the OAuth transaction lives in grain state, not in a silo's memory. Both silos are crashed
/// in turn, so whichever hosted the session grain lost it.
/// </summary>
public sealed class SiloRestartTests(TwoSiloServices services) : EndToEndTest(services), IClassFixture<TwoSiloServices>
{
    [Fact]
    public async Task Session_opened_before_silo_crashes_completes_after_restart()
    {
        Assert.Equal(2, Services.SiloCount);
        await WaitUntilClusterRoutesAsync();
        var patient = NewPatientId("crash");
        var session = await Flow.CreateSessionAsync(patient, await Flow.SourceIdAsync("lakeside"));
        var sessionId = session.Str("id")!;
        var callback = await Flow.ConsentAsync(await Flow.OpenDirectAsync(session.Str("url")!));
        var untouched = await Flow.CreateSessionAsync(patient);

        for (var silo = 0; silo < Services.SiloCount; silo++)
        {
            Services.KillSilo(silo);
            Assert.True(Services.Silo(silo).HasExited);
            Services.StartSilo(silo);
            await Services.WaitForActiveSilosAsync(Services.SiloCount);
            await Services.WaitForReadyAsync();
        }
        // The callback is not retried blindly once it reached the session (its state is single use):
        // it goes out when the cluster routes every call again, not while a dead silo is still probed.
        await WaitUntilClusterRoutesAsync();

        var before = await GetWithRetryAsync($"v1/patient-sessions/{sessionId}");
        Assert.Equal("open", before.Str("status"));

        using var back = await CallbackWithRetryAsync(callback);
        var result = await Flow.ReturnParametersAsync(back);
        Assert.Equal("true", result["success"]);
        Assert.Equal(sessionId, result["patient_session_id"]);

        var completed = await Flow.GetSessionAsync(sessionId);
        Assert.Equal("complete", completed.Str("status"));
        var connection = await Flow.GetConnectionAsync(completed.Str("connection_id")!);
        Assert.Equal("active", connection.Str("status"));
        Assert.NotEmpty(connection["scopes"]!.AsArray());

        // The other session of the patient is still there and still open.
        Assert.Equal("open", (await Flow.GetSessionAsync(untouched.Str("id")!)).Str("status"));
        var list = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions");
        Assert.Equal([untouched.Str("id"), sessionId], list["data"]!.AsArray().Select(s => s.Str("id")).ToList());
    }

    [Fact]
    public async Task Both_silos_serve_requests_and_the_cluster_survives_losing_one()
    {
        await WaitUntilClusterRoutesAsync();
        var patient = NewPatientId("spread");
        // Many grains: with two silos, placement spreads them, so some lived on the silo that dies.
        var ids = new List<string>();
        for (var i = 0; i < 10; i++) ids.Add((await Flow.CreateSessionAsync(patient)).Str("id")!);

        Services.KillSilo(1);
        try
        {
            // Without the dead silo's restart, the survivor takes over once membership declares it dead.
            foreach (var id in ids)
            {
                var session = await GetWithRetryAsync($"v1/patient-sessions/{id}", TimeSpan.FromSeconds(120));
                Assert.Equal("open", session.Str("status"));
            }
        }
        finally
        {
            Services.StartSilo(1);
            await Services.WaitForActiveSilosAsync(Services.SiloCount);
        }
    }

    /// <summary>
    /// Right after a crash a call may meet the dead silo until membership catches up: a 5xx or a
    /// timed-out request is retried; any other answer is the answer.
    /// </summary>
    private async Task<System.Text.Json.Nodes.JsonObject> GetWithRetryAsync(string path, TimeSpan? within = null)
    {
        using var response = await RetryAsync(() => ApiA.GetAsync(path, Cancel), within ?? TimeSpan.FromSeconds(60));
        return await Json.ReadAsync(response, HttpStatusCode.OK);
    }

    /// <summary>
    /// The other test in this class crashes and restarts silos; until the Api's client and the grain
    /// directory have caught up, a call can still meet the dead incarnation. Wait until lookups of
    /// random session ids (spread over both silos by hash) answer 404 several times in a row.
    /// </summary>
    private async Task WaitUntilClusterRoutesAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        var inARow = 0;
        while (inARow < 8)
        {
            using var response = await RetryAsync(() => ApiA.GetAsync($"v1/patient-sessions/{Ids.NewSessionId()}", Cancel), TimeSpan.FromSeconds(5));
            inARow = response.StatusCode == HttpStatusCode.NotFound ? inARow + 1 : 0;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The cluster did not route requests within 120 s.");
            if (inARow == 0) await Task.Delay(500, Cancel);
        }
    }

    private Task<HttpResponseMessage> CallbackWithRetryAsync(Uri callback) =>
        RetryAsync(() => Flow.CallbackAsync(callback), TimeSpan.FromSeconds(60));

    private static async Task<HttpResponseMessage> RetryAsync(Func<Task<HttpResponseMessage>> send, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                var response = await send();
                if ((int)response.StatusCode < 500 || DateTime.UtcNow > deadline) return response;
                response.Dispose();
            }
            catch (TaskCanceledException) when (!Cancel.IsCancellationRequested && DateTime.UtcNow < deadline)
            {
                // The client's timeout: the call waited on the dead silo.
            }
            await Task.Delay(500, Cancel);
        }
    }
}

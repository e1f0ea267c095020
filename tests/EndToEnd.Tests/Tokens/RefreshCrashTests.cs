using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using PatientConnect.Connections;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Tokens;

/// <summary>
/// Two silos; refreshes of one connection keep running while each silo in turn is killed (SIGKILL) and
/// restarted, so the silo hosting the connection dies with refreshes in flight. Afterwards the
/// connection is active and its token works at the sandbox.
/// </summary>
public sealed class RefreshCrashTests(TwoSiloTokenServices services) : EndToEndTest(services), IClassFixture<TwoSiloTokenServices>
{
    [Fact]
    public async Task Silo_killed_during_refresh_leaves_the_connection_active_with_a_working_token()
    {
        // riverside is Epic-like: the refresh token survives a refresh, so a refresh cut short by a crash is
        // simply done again by the next trigger (see the report for the rotating case).
        var (session, query) = await Flow.ConnectAsync(NewPatientId("crash"), "riverside");
        Assert.Equal("true", query["success"]);
        var connectionId = session.Str("connection_id")!;
        var grain = ((TokenServices)Services).Cluster.GetGrain<IConnectionGrain>(connectionId);
        var first = await grain.GetAccess();
        Assert.NotNull(first);

        using var stop = new CancellationTokenSource();
        var refreshes = 0;
        var failures = 0;
        var traffic = Task.Run(async () =>
        {
            var lease = first;
            var watch = Stopwatch.StartNew();
            // Bounded: at most 2,000 refreshes or 150 s.
            for (var i = 0; i < 2000 && !stop.IsCancellationRequested && watch.Elapsed < TimeSpan.FromSeconds(150); i++)
            {
                try
                {
                    lease = await grain.RefreshAfterRejected(lease!.AccessToken) ?? throw new InvalidOperationException("refresh impossible");
                    refreshes++;
                }
                catch (Exception)
                {
                    // A call to the killed silo fails or times out; the next one reaches the new activation.
                    failures++;
                    if (stop.IsCancellationRequested) break;
                    await Task.Delay(200, TestContext.Current.CancellationToken);
                    try
                    {
                        lease = await grain.GetAccess() ?? lease;
                    }
                    catch (Exception)
                    {
                        // The silo is still being replaced; try again.
                    }
                }
            }
        }, TestContext.Current.CancellationToken);

        for (var silo = 0; silo < Services.SiloCount; silo++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5), Cancel);
            Services.KillSilo(silo);
            Services.StartSilo(silo);
            await Services.WaitForActiveSilosAsync(Services.SiloCount);
        }
        await Task.Delay(TimeSpan.FromSeconds(2), Cancel);
        await stop.CancelAsync();
        await traffic;
        Assert.True(refreshes > 0, "no refresh went through");

        AccessLease? after = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (after is null && DateTime.UtcNow < deadline)
        {
            try
            {
                after = await grain.GetAccess();
            }
            catch (Exception)
            {
                await Task.Delay(500, Cancel);
            }
        }
        Assert.NotNull(after);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{after.FhirBaseUrl.TrimEnd('/')}/Patient/{after.FhirPatientId}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", after.AccessToken);
        using var response = await http.SendAsync(request, Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var connection = await Flow.GetConnectionAsync(connectionId);
        Assert.Equal("active", connection.Str("status"));
        TestContext.Current.TestOutputHelper?.WriteLine($"refreshes {refreshes}, failed calls during the crashes {failures}");
    }
}

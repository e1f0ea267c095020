using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using PatientConnect.Connections;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Tokens;

/// <summary>
/// Two silos. A refresh cut off exactly between the source's answer and our write (the silo's fault point
/// kills it there), and refreshes of one connection running while each silo in turn is killed (SIGKILL)
/// and restarted. Afterwards the connection is active and its token works at the sandbox.
/// </summary>
public sealed class RefreshCrashTests(TwoSiloTokenServices services) : EndToEndTest(services), IClassFixture<TwoSiloTokenServices>
{
    private TokenServices Tokens => (TokenServices)Services;

    [Fact]
    public async Task Refresh_cut_off_between_the_sources_answer_and_our_write_leaves_the_connection_active_with_a_working_token()
    {
        // riverside is Epic-like: its refresh token stays valid after use, so the one we still hold after
        // the cut is good for the next refresh. (A rotating source spends it when it answers; see the report.)
        // Retried: the other test of this class may have just restarted the silos (503 until routing settles).
        var (session, query) = await RetryAsync(() => Flow.ConnectAsync(NewPatientId("cut"), "riverside"));
        Assert.Equal("true", query["success"]);
        var connectionId = session.Str("connection_id")!;
        var grain = Tokens.Cluster.GetGrain<IConnectionGrain>(connectionId);
        var before = await RetryAsync(() => grain.GetAccess());
        Assert.NotNull(before);
        var stored = await Flow.GetConnectionAsync(connectionId);
        using var sandbox = new HttpClient { BaseAddress = Services.SandboxBase, Timeout = TimeSpan.FromSeconds(30) };
        var refreshesBefore = await RefreshCountAsync(sandbox);

        await File.WriteAllTextAsync(Tokens.CrashMarkerFile, connectionId, Cancel);
        try
        {
            // The silo holding the connection dies inside this call, so it fails.
            await Assert.ThrowsAnyAsync<Exception>(() => grain.RefreshAfterRejected(before.AccessToken));

            // The cut happened where it should: the fault point ran (it consumed the marker and said so
            // for this connection), its silo is gone, and the source had answered exactly one refresh.
            Assert.False(File.Exists(Tokens.CrashMarkerFile), "the fault point never ran: no refresh reached the source's answer");
            var killed = Enumerable.Range(0, Services.SiloCount).Single(i => Services.Silo(i).HasExited);
            Assert.Contains($"fault injection: connection {connectionId}: killing the silo after the source answered", Services.Silo(killed).Output());
            Assert.Equal(refreshesBefore + 1, await RefreshCountAsync(sandbox));

            Services.StartSilo(killed);
            await Services.WaitForActiveSilosAsync(Services.SiloCount);

            // Nothing of the answer was stored: the connection still holds the pair from before the cut.
            var after = await Flow.GetConnectionAsync(connectionId);
            Assert.Equal("active", after.Str("status"));
            Assert.Equal(stored.Str("access_expires_at"), after.Str("access_expires_at"));
            Assert.Equal(stored.Str("last_refreshed_at"), after.Str("last_refreshed_at"));

            // And it refreshes again with the refresh token it kept; the new token works at the source.
            var refreshed = await RetryAsync(() => grain.RefreshAfterRejected(before.AccessToken));
            Assert.NotNull(refreshed);
            Assert.NotEqual(before.AccessToken, refreshed.AccessToken);
            Assert.Equal(refreshesBefore + 2, await RefreshCountAsync(sandbox));
            Assert.Equal(HttpStatusCode.OK, await FhirReadAsync(refreshed));
            var final = await Flow.GetConnectionAsync(connectionId);
            Assert.Equal("active", final.Str("status"));
            Assert.NotEqual(stored.Str("access_expires_at"), final.Str("access_expires_at"));
        }
        finally
        {
            File.Delete(Tokens.CrashMarkerFile);
            for (var i = 0; i < Services.SiloCount; i++)
            {
                if (Services.Silo(i).HasExited) Services.StartSilo(i);
            }
            await Services.WaitForActiveSilosAsync(Services.SiloCount);
        }
    }

    private static async Task<long> RefreshCountAsync(HttpClient sandbox)
    {
        var stats = await Json.GetAsync(sandbox, "hospitals/riverside/stats");
        return stats["refresh_requests"]!.GetValue<long>();
    }

    private static async Task<HttpStatusCode> FhirReadAsync(AccessLease lease)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{lease.FhirBaseUrl.TrimEnd('/')}/Patient/{lease.FhirPatientId}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", lease.AccessToken);
        using var response = await http.SendAsync(request, Cancel);
        return response.StatusCode;
    }

    /// <summary>Calls routed to the dead silo's directory partition fail until the cluster has noticed; retry briefly.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500, Cancel);
            }
        }
    }

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

using System.Net;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Telemetry;

namespace PatientConnect.EndToEnd.Tests.Sync;

/// <summary>Three silos, one source limited to <see cref="PerSecond"/> requests per second, small pages (many requests).</summary>
public sealed class ThreeSiloRateLimitedServices() : ServiceProcesses(silos: 3)
{
    public const int PerSecond = 10;

    protected override void AddSiloEnvironment(Dictionary<string, string> env)
    {
        env["PatientConnect__Sync__RequestsPerSecondPerSource"] = PerSecond.ToString();
        env["PatientConnect__Sync__PageSize"] = "5";
    }
}

/// <summary>
/// The per-source rate holds for the cluster, not per silo: concurrent syncs running on three silos
/// together stay within N requests per second as the sandbox counts them (one second's burst allowed).
/// </summary>
public sealed class SourceRateLimitTests(ThreeSiloRateLimitedServices services)
    : EndToEndTest(services), IClassFixture<ThreeSiloRateLimitedServices>
{
    private const int N = ThreeSiloRateLimitedServices.PerSecond;

    [Fact]
    public async Task Concurrent_syncs_on_three_silos_together_keep_the_sources_rate()
    {
        var patients = (await SyncSupport.SandboxPatientsAsync(Services, "riverside"))
            .Where(p => p.Total is >= 10 and <= 200).OrderBy(p => p.Total).Take(6).ToList();
        Assert.Equal(6, patients.Count);
        var before = await StatsAsync();

        var connections = new List<string>();
        foreach (var patient in patients)
        {
            connections.Add(await SyncSupport.ConnectAsync(Flow, NewPatientId("rate"), "riverside", patient.Id));
        }
        foreach (var id in connections)
        {
            var connection = await SyncSupport.WaitForSyncAsync(ApiA, id, timeout: TimeSpan.FromMinutes(4));
            Assert.Equal("completed", connection["sync"].Str("status"));
        }

        var after = await StatsAsync();
        var total = after["fhir_requests"]!.GetValue<long>() - before["fhir_requests"]!.GetValue<long>();
        var beforeSeconds = before["fhir_requests_by_second"]!.AsObject().ToDictionary(p => long.Parse(p.Key), p => p.Value!.GetValue<long>());
        var perSecond = after["fhir_requests_by_second"]!.AsObject()
            .Select(p => (Second: long.Parse(p.Key), Count: p.Value!.GetValue<long>() - beforeSeconds.GetValueOrDefault(long.Parse(p.Key))))
            .Where(p => p.Count > 0).OrderBy(p => p.Second).ToList();
        var report = string.Join(", ", perSecond.Select(p => $"{p.Second % 1000}:{p.Count}"));

        // Enough work that the limit had to bind for many seconds, or the test shows nothing.
        Assert.True(total >= 8 * N, $"only {total} FHIR requests: {report}");
        var first = perSecond[0].Second;
        var last = perSecond[^1].Second;
        foreach (var (second, count) in perSecond)
        {
            // One second's burst on top of the rate, never more.
            Assert.True(count <= 2 * N, $"second {second % 1000} saw {count} requests (limit {N}/s): {report}");
            // Over every span from the start, at most the burst plus N per second elapsed.
            var sinceFirst = perSecond.Where(p => p.Second <= second).Sum(p => p.Count);
            Assert.True(sinceFirst <= N * (second - first + 1) + N,
                $"{sinceFirst} requests in the {second - first + 1} s from the first (limit {N}/s + burst {N}): {report}");
        }
        Assert.True(total <= N * (last - first + 1) + N, $"{total} requests in {last - first + 1} s: {report}");

        // And the syncs really ran on more than one silo: each silo's HttpClient metrics name the sandbox.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var silosFetching = 0;
        for (var i = 0; i < Services.SiloCount; i++)
        {
            var text = new PrometheusText(await http.GetStringAsync(new Uri(Services.SiloHttpBase(i), "metrics"), Cancel));
            if (text.Sum("http_client_request_duration_seconds_count", ("server_address", Services.SandboxBase.Host), ("http_request_method", "GET")) > 0) silosFetching++;
        }
        Assert.True(silosFetching >= 2, $"only {silosFetching} silo(s) fetched from the sandbox; the test needs syncs spread over silos");
    }

    private async Task<JsonObject> StatsAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(new Uri(Services.SandboxBase, "hospitals/riverside/stats"), Cancel);
        return await Json.ReadAsync(response, HttpStatusCode.OK);
    }
}

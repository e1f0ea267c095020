using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PatientConnect.Benchmarks;

/// <summary>
/// `telemetry`: what OpenTelemetry costs on the hot paths. Three stacks of the same build run side by
/// side on fresh databases (sandbox, one silo, the Api): telemetry off (<c>PatientConnect:Telemetry:Enabled=false</c>),
/// the default (metrics, with the Api's /metrics scraped every 5 s) and the production set-up (metrics,
/// traces and logs exported over OTLP to a sink in this process, traces sampled at 10 % with
/// <c>parentbased_traceidratio</c>). The load alternates between the stacks round by round, so the
/// machine's drift is shared, and the medians are compared: POST and GET of a patient session.
///
///   telemetry [--pg ADMIN_CONNSTR] [--configuration Release|Debug] [--concurrency 16] [--seconds 5] [--rounds 3]
/// </summary>
public static class TelemetryOverheadBenchmark
{
    private sealed record Setup(string Name, IReadOnlyDictionary<string, string> Environment);

    public static async Task<int> RunAsync(string[] args)
    {
        var pg = Environment.GetEnvironmentVariable("PATIENTCONNECT_PG") is { Length: > 0 } p
            ? p
            : "Host=127.0.0.1;Port=55432;Username=patientconnect;Password=patientconnect;Database=patientconnect";
        string configuration = "Release";
        int concurrency = 16, seconds = 5, rounds = 3;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "telemetry": continue;
                case "--pg" when value is not null: pg = value; i++; break;
                case "--configuration" when value is "Release" or "Debug": configuration = value; i++; break;
                case "--concurrency" when int.TryParse(value, out var c) && c is > 0 and <= 256: concurrency = c; i++; break;
                case "--seconds" when int.TryParse(value, out var s) && s is > 0 and <= 120: seconds = s; i++; break;
                case "--rounds" when int.TryParse(value, out var r) && r is > 0 and <= 20: rounds = r; i++; break;
                default:
                    Console.Error.WriteLine($"unknown or invalid argument '{args[i]}'");
                    Console.Error.WriteLine("usage: telemetry [--pg ADMIN_CONNSTR] [--configuration Release|Debug] [--concurrency 16] [--seconds 5] [--rounds 3]");
                    return 2;
            }
        }

        await using var sink = await OtlpSink.StartAsync();
        Setup[] setups =
        [
            new("off", new Dictionary<string, string> { ["PatientConnect__Telemetry__Enabled"] = "false" }),
            new("metrics (default)", new Dictionary<string, string>()),
            new("metrics+traces+logs over OTLP, 10 % sampled", new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.Url,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio",
                ["OTEL_TRACES_SAMPLER_ARG"] = "0.1",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "15000",
            }),
        ];

        Console.WriteLine($"telemetry overhead: {setups.Length} stacks side by side ({configuration}), concurrency {concurrency}, " +
                          $"{seconds} s per measurement, {rounds} rounds, {Environment.ProcessorCount} cores");
        var stacks = new List<SyncBenchStack>();
        try
        {
            foreach (var setup in setups)
            {
                Console.WriteLine($"  starting stack '{setup.Name}' ...");
                stacks.Add(await SyncBenchStack.StartAsync(pg, configuration, setup.Environment));
            }

            using var scrapeStop = new CancellationTokenSource();
            var scraper = ScrapeAsync(stacks[1].Api, scrapeStop.Token);

            var clients = stacks.Select(s => SessionsBenchmark.CreateClient(s.Api, s.ApiKey, concurrency)).ToArray();
            var ids = new ConcurrentBag<string>[stacks.Count];
            var posts = stacks.Select(_ => new List<SessionsLoadResult>()).ToArray();
            var gets = stacks.Select(_ => new List<SessionsLoadResult>()).ToArray();
            var options = new SessionsBenchmarkOptions(stacks[0].Api, stacks[0].ApiKey, pg, concurrency, seconds, WarmupSeconds: 1);
            var counter = 0L;
            for (var i = 0; i < stacks.Count; i++) ids[i] = [];

            // Round 0 warms every stack (JIT, pools, grain activations) and is not counted.
            for (var round = 0; round <= rounds; round++)
            {
                // A different stack goes first each round: nobody always gets the quiet start.
                foreach (var i in Enumerable.Range(0, stacks.Count).Select(k => (k + round) % stacks.Count))
                {
                    var http = clients[i];
                    var bag = ids[i];
                    var postResult = await SessionsLoad.MeasureAsync($"[{setups[i].Name}] POST", options, async token =>
                    {
                        var n = Interlocked.Increment(ref counter);
                        using var content = new StringContent(
                            $"{{\"patient_id\":\"tel-{n}\",\"return_url\":\"{http.BaseAddress}health/live\",\"metadata\":{{\"n\":{n}}}}}",
                            Encoding.UTF8, "application/json");
                        using var response = await http.PostAsync("v1/patient-sessions", content, token);
                        if (response.StatusCode != HttpStatusCode.Created) return false;
                        if (bag.Count < 5_000)
                        {
                            using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(token), cancellationToken: token);
                            bag.Add(body.RootElement.GetProperty("id").GetString()!);
                        }
                        return true;
                    });
                    if (round > 0) posts[i].Add(postResult);
                    var known = bag.ToArray();
                    if (known.Length == 0)
                    {
                        Console.Error.WriteLine($"stack '{setups[i].Name}' created no session");
                        return 1;
                    }
                    var getResult = await SessionsLoad.MeasureAsync($"[{setups[i].Name}] GET", options, async token =>
                    {
                        using var response = await http.GetAsync($"v1/patient-sessions/{known[Random.Shared.Next(known.Length)]}", token);
                        return response.StatusCode == HttpStatusCode.OK;
                    });
                    if (round > 0) gets[i].Add(getResult);
                }
            }
            scrapeStop.Cancel();
            var scrapes = await scraper;

            Console.WriteLine();
            Console.WriteLine($"{"setup",-46} {"POST req/s",11} {"p50 ms",8} {"GET req/s",10} {"p50 ms",8}   (medians of {rounds} rounds)");
            var medians = Enumerable.Range(0, stacks.Count).Select(i => (Post: Median(posts[i]), Get: Median(gets[i]))).ToArray();
            for (var i = 0; i < stacks.Count; i++)
            {
                Console.WriteLine($"{setups[i].Name,-46} {medians[i].Post.PerSecond,11:0} {medians[i].Post.P50Ms,8:0.00} {medians[i].Get.PerSecond,10:0} {medians[i].Get.P50Ms,8:0.00}");
            }
            Console.WriteLine();
            var errors = posts.Concat(gets).SelectMany(r => r).Sum(r => r.Errors);
            for (var i = 1; i < stacks.Count; i++)
            {
                var post = medians[i].Post.PerSecond / medians[0].Post.PerSecond;
                var get = medians[i].Get.PerSecond / medians[0].Get.PerSecond;
                Console.WriteLine($"ratio {setups[i].Name} / off: POST {post:0.000} (overhead {(1 - post) * 100:0.0} %), " +
                                  $"GET {get:0.000} (overhead {(1 - get) * 100:0.0} %)");
            }
            Console.WriteLine($"the Api's /metrics scraped {scrapes} times; OTLP sink received {sink.Describe()}");
            Console.WriteLine($"errors: {errors}");
            foreach (var client in clients) client.Dispose();
            return errors > 0 || sink.Requests("traces") == 0 ? 1 : 0;
        }
        finally
        {
            foreach (var stack in stacks) await stack.DisposeAsync();
        }
    }

    private static SessionsLoadResult Median(List<SessionsLoadResult> results) =>
        results.OrderBy(r => r.PerSecond).ElementAt(results.Count / 2);

    // What a Prometheus server would do to the default stack: its exposition is part of the cost.
    private static async Task<int> ScrapeAsync(Uri api, CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(10) };
        var scrapes = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var text = await http.GetStringAsync("metrics", stop);
                if (text.Contains("patientconnect_", StringComparison.Ordinal) || text.Contains("http_server_", StringComparison.Ordinal)) scrapes++;
                await Task.Delay(TimeSpan.FromSeconds(5), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return scrapes;
    }

    /// <summary>An OTLP/HTTP receiver that accepts and counts what it is sent, and keeps nothing.</summary>
    private sealed class OtlpSink : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, (long Requests, long Bytes)> _received = new();

        private OtlpSink(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public string Url { get; }

        public static async Task<OtlpSink> StartAsync()
        {
            var url = $"http://127.0.0.1:{FreePorts.Next()}";
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls(url);
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var sink = new OtlpSink(app, url);
            app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
            {
                using var buffer = new MemoryStream();
                await request.Body.CopyToAsync(buffer);
                sink._received.AddOrUpdate(signal, (1, buffer.Length), (_, v) => (v.Requests + 1, v.Bytes + buffer.Length));
                // An empty Export*ServiceResponse is zero bytes of protobuf.
                return Results.Bytes([], "application/x-protobuf");
            });
            await app.StartAsync();
            return sink;
        }

        public long Requests(string signal) => _received.TryGetValue(signal, out var v) ? v.Requests : 0;

        public string Describe() => _received.IsEmpty
            ? "nothing"
            : string.Join(", ", _received.OrderBy(x => x.Key).Select(x => $"{x.Key} {x.Value.Requests} posts / {x.Value.Bytes / 1024.0:0} KiB"));

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PatientConnect.Benchmarks;

/// <summary>
/// `sandbox-pages`: how fast the sandbox EHR serves 50-resource Observation pages (Epic-like hospital,
/// its largest patient, every page of the search in turn, next-link tokens included), next to a bare
/// Kestrel endpoint in this process answering a constant body of the same size: the floor of HTTP on
/// this machine. Prints pages/s, resources/s and the ratio to the floor.
///
///   sandbox-pages [--seconds 10] [--concurrency 8] [--sandbox path/to/SandboxEhr.dll]
/// </summary>
public static class SandboxPagesBenchmark
{
    private const string Hospital = "riverside";

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = 10;
        var concurrency = 8;
        string? dll = Environment.GetEnvironmentVariable("SANDBOXEHR_DLL");
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds" when i + 1 < args.Length: seconds = int.Parse(args[++i]); break;
                case "--concurrency" when i + 1 < args.Length: concurrency = int.Parse(args[++i]); break;
                case "--sandbox" when i + 1 < args.Length: dll = args[++i]; break;
                default:
                    Console.Error.WriteLine("usage: sandbox-pages [--seconds 10] [--concurrency 8] [--sandbox SandboxEhr.dll]");
                    return 2;
            }
        }
        dll ??= DefaultSandboxDll();
        if (!File.Exists(dll))
        {
            Console.Error.WriteLine($"SandboxEhr.dll not found at {dll}: build SandboxEhr first or pass --sandbox.");
            return 1;
        }

        Console.WriteLine($"sandbox-pages: {seconds} s per measurement, concurrency {concurrency}, {Environment.ProcessorCount} cores");
        using var sandbox = await SandboxUnderTest.StartAsync(dll);
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = concurrency })
        {
            BaseAddress = new Uri(sandbox.BaseUrl),
        };

        var (patientId, token) = await ConnectToLargestPatientAsync(http);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        http.DefaultRequestHeaders.Accept.ParseAdd("application/fhir+json");

        // Walk the search once: the page URLs (with their opaque tokens) and how many resources each holds.
        var pages = new List<(string Url, int Resources, int Bytes)>();
        string? next = $"/hospitals/{Hospital}/fhir/Observation?patient={patientId}&category=vital-signs,laboratory&_count=50";
        while (next is not null)
        {
            var body = await http.GetByteArrayAsync(next);
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            pages.Add((next, root.TryGetProperty("entry", out var entries) ? entries.GetArrayLength() : 0, body.Length));
            next = root.GetProperty("link").EnumerateArray()
                .Where(l => l.GetProperty("relation").GetString() == "next")
                .Select(l => l.GetProperty("url").GetString())
                .FirstOrDefault();
        }
        var full = pages.Where(p => p.Resources == 50).ToList();
        if (full.Count == 0)
        {
            Console.Error.WriteLine("no full 50-resource page found");
            return 1;
        }
        var pageBytes = (int)full.Average(p => p.Bytes);
        Console.WriteLine($"  patient {patientId}: {pages.Sum(p => p.Resources)} Observations in {pages.Count} pages, ~{pageBytes / 1024} KiB per 50-resource page");

        var sandboxResult = await MeasureAsync(concurrency, seconds, async (n, ct) =>
        {
            var page = full[(int)(n % full.Count)];
            using var response = await http.GetAsync(page.Url, HttpCompletionOption.ResponseContentRead, ct);
            if (response.StatusCode != HttpStatusCode.OK)
                throw new InvalidOperationException($"sandbox answered {(int)response.StatusCode}");
            return page.Resources;
        });

        await using var baseline = await BareKestrel.StartAsync(RandomNumberGenerator.GetBytes(pageBytes / 4 * 3));
        using var bare = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = new Uri(baseline.BaseUrl) };
        var baselineResult = await MeasureAsync(concurrency, seconds, async (_, ct) =>
        {
            using var response = await bare.GetAsync("/page", HttpCompletionOption.ResponseContentRead, ct);
            response.EnsureSuccessStatusCode();
            return 50;
        });

        Console.WriteLine();
        Console.WriteLine($"{"",-28}{"pages/s",12}{"resources/s",14}{"p50 ms",10}{"p99 ms",10}");
        Print("sandbox Observation pages", sandboxResult);
        Print("bare Kestrel, same size", baselineResult);
        Console.WriteLine($"ratio sandbox / bare: {sandboxResult.PerSecond / baselineResult.PerSecond:P0}");
        return 0;
    }

    private static void Print(string name, Result r) =>
        Console.WriteLine($"{name,-28}{r.PerSecond,12:F0}{r.ResourcesPerSecond,14:F0}{r.P50,10:F2}{r.P99,10:F2}");

    private sealed record Result(double PerSecond, double ResourcesPerSecond, double P50, double P99);

    /// <summary>Concurrent workers for a bounded time after a two-second warm-up; failures stop the run.</summary>
    private static async Task<Result> MeasureAsync(int concurrency, int seconds, Func<long, CancellationToken, Task<int>> operation)
    {
        using (var warmup = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            await Run(warmup.Token, null);

        var latencies = new List<double>[concurrency];
        long resources = 0;
        var clock = Stopwatch.StartNew();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds)))
            resources = await Run(cts.Token, latencies);
        clock.Stop();

        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Result(all.Length / clock.Elapsed.TotalSeconds, resources / clock.Elapsed.TotalSeconds,
            all[all.Length / 2], all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))]);

        async Task<long> Run(CancellationToken token, List<double>[]? record)
        {
            long counter = 0;
            long total = 0;
            var workers = Enumerable.Range(0, concurrency).Select(async w =>
            {
                var mine = new List<double>();
                if (record is not null)
                    record[w] = mine;
                while (!token.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    int count;
                    try
                    {
                        count = await operation(Interlocked.Increment(ref counter), token);
                    }
                    catch (OperationCanceledException) when (token.IsCancellationRequested)
                    {
                        break;
                    }
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Interlocked.Add(ref total, count);
                }
            }).ToArray();
            await Task.WhenAll(workers);
            return total;
        }
    }

    /// <summary>Standalone launch with the scripted consent header and PKCE, for the hospital's largest patient.</summary>
    private static async Task<(string PatientId, string Token)> ConnectToLargestPatientAsync(HttpClient http)
    {
        using var listing = JsonDocument.Parse(await http.GetStringAsync($"/hospitals/{Hospital}/patients"));
        var patientId = listing.RootElement.EnumerateArray()
            .OrderByDescending(p => p.GetProperty("resource_counts").EnumerateObject().Sum(c => c.Value.GetInt32()))
            .First().GetProperty("id").GetString()!;

        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        const string redirect = "http://127.0.0.1:9/callback";
        var query = string.Join('&', new Dictionary<string, string>
        {
            ["response_type"] = "code",
            ["client_id"] = "sandbox-public",
            ["redirect_uri"] = redirect,
            ["scope"] = "launch/patient patient/Observation.read",
            ["state"] = "bench",
            ["aud"] = $"{http.BaseAddress!.ToString().TrimEnd('/')}/hospitals/{Hospital}/fhir",
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
        }.Select(kv => $"{kv.Key}={Uri.EscapeDataString(kv.Value)}"));
        using var authorize = new HttpRequestMessage(HttpMethod.Get, $"/hospitals/{Hospital}/auth/authorize?{query}");
        authorize.Headers.Add("X-Sandbox-Consent", $"approve; patient={patientId}");
        using var redirected = await http.SendAsync(authorize);
        var location = redirected.Headers.Location ?? throw new InvalidOperationException($"authorize answered {(int)redirected.StatusCode}");
        var code = System.Web.HttpUtility.ParseQueryString(location.Query)["code"]
                   ?? throw new InvalidOperationException($"no code in {location}");

        using var tokenResponse = await http.PostAsync($"/hospitals/{Hospital}/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = redirect,
            ["code_verifier"] = verifier,
            ["client_id"] = "sandbox-public",
        }));
        var tokenBody = await tokenResponse.Content.ReadAsStringAsync();
        if (!tokenResponse.IsSuccessStatusCode)
            throw new InvalidOperationException($"token endpoint answered {(int)tokenResponse.StatusCode}: {tokenBody}");
        using var token = JsonDocument.Parse(tokenBody);
        return (patientId, token.RootElement.GetProperty("access_token").GetString()!);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string DefaultSandboxDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Orleans.sln")))
                continue;
            var release = Path.Combine(dir.FullName, "SandboxEhr", "bin", "Release", "net10.0", "SandboxEhr.dll");
            return File.Exists(release) ? release : Path.Combine(dir.FullName, "SandboxEhr", "bin", "Debug", "net10.0", "SandboxEhr.dll");
        }
        return "SandboxEhr.dll";
    }

    /// <summary>The sandbox as its own process on a free loopback port, stopped on dispose.</summary>
    private sealed class SandboxUnderTest : IDisposable
    {
        private readonly Process _process;

        private SandboxUnderTest(Process process, string baseUrl)
        {
            _process = process;
            BaseUrl = baseUrl;
        }

        public string BaseUrl { get; }

        public static async Task<SandboxUnderTest> StartAsync(string dll)
        {
            var baseUrl = $"http://127.0.0.1:{FreePorts.Next()}";
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(dll))!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(dll);
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add(baseUrl);
            var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  sandbox: {e.Data}"); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            var sandbox = new SandboxUnderTest(process, baseUrl);
            using var probe = new HttpClient { BaseAddress = new Uri(baseUrl) };
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (process.HasExited)
                    throw new InvalidOperationException($"SandboxEhr exited with {process.ExitCode}");
                try
                {
                    using var response = await probe.GetAsync("/hospitals");
                    if (response.IsSuccessStatusCode)
                        break;
                }
                catch (HttpRequestException)
                {
                    // Still generating its data.
                }
                if (clock.Elapsed > TimeSpan.FromMinutes(3))
                {
                    sandbox.Dispose();
                    throw new TimeoutException("SandboxEhr did not start within 3 minutes");
                }
                await Task.Delay(200);
            }
            Console.WriteLine($"  sandbox started in {clock.Elapsed.TotalSeconds:F1} s at {baseUrl}");
            return sandbox;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
            _process.Dispose();
        }
    }

    /// <summary>The floor: Kestrel answering a constant body of the page's size, no logic at all.</summary>
    private sealed class BareKestrel : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private BareKestrel(WebApplication app, string baseUrl)
        {
            _app = app;
            BaseUrl = baseUrl;
        }

        public string BaseUrl { get; }

        public static async Task<BareKestrel> StartAsync(byte[] payload)
        {
            // Base64 of random bytes: a JSON string of the same length as a page, not compressible either.
            var body = Encoding.UTF8.GetBytes($"{{\"data\":\"{Convert.ToBase64String(payload)}\"}}");
            var port = FreePorts.Next();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
            var app = builder.Build();
            app.MapGet("/page", async context =>
            {
                context.Response.ContentType = "application/fhir+json; charset=utf-8";
                context.Response.ContentLength = body.Length;
                await context.Response.Body.WriteAsync(body);
            });
            await app.StartAsync();
            return new BareKestrel(app, $"http://127.0.0.1:{port}");
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}

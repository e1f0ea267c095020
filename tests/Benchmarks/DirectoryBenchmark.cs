using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace PatientConnect.Benchmarks;

/// <summary>
/// `directory`: GET /v1/sources searches through the Api (typical queries: exact, prefix as typed,
/// misspelled, filtered) at a fixed concurrency, next to a bare Kestrel endpoint returning a
/// constant search answer of the same size, measured in the same run; then each query alone, one at
/// a time, for its p50/p99. Uses the service at --api when it answers; otherwise starts its own
/// silo and Api (shipped snapshot loaded) on free 127.0.0.1 ports over a fresh database.
///
///   directory [--api URL --key KEY] [--pg CONNSTR] [--concurrency 16] [--seconds 10] [--warmup 2]
/// </summary>
public static class DirectoryBenchmark
{
    public static readonly string[] Queries =
    [
        "q=stanford%20health%20care",            // exact
        "q=mayo%20cl",                             // prefix, as typed
        "q=stanferd%20health",                    // misspelled
        "q=clevland%20clinic",                    // misspelled
        "q=kaiser%20permanente&vendor=epic",     // filtered by vendor
        "q=pediatrics&zip=021",                    // filtered by ZIP area
        "q=medical%20center",                     // broad
        "q=st",                                    // one keystroke in
        "zip=53703",                               // ZIP only
        "vendor=cerner&limit=50",                  // browse a vendor
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var options = SessionsBenchmarkOptions.Parse([.. args, .. args.Contains("--key") ? Array.Empty<string>() : ["--key", "unused-until-known"]]);
        if (options is null) return 2;
        await using var service = await Service.UseOrStartAsync(options);
        if (service is null) return 1;
        options = options with { Api = service.Api, ApiKey = service.Key };
        Console.WriteLine($"directory benchmark: concurrency {options.Concurrency}, {options.Seconds} s per measurement (+{options.WarmupSeconds} s warm-up), " +
                          $"{Environment.ProcessorCount} cores, api {options.Api}");

        using var http = SessionsBenchmark.CreateClient(options.Api, options.ApiKey, options.Concurrency);
        foreach (var query in Queries)
        {
            using var probe = await http.GetAsync($"v1/sources?{query}");
            var body = await probe.Content.ReadAsStringAsync();
            if (probe.StatusCode != HttpStatusCode.OK)
            {
                Console.Error.WriteLine($"GET /v1/sources?{query} answered {(int)probe.StatusCode}: {body}");
                return 1;
            }
            var first = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("name").GetString()).FirstOrDefault();
            Console.WriteLine($"  {query,-40} first: {first}");
        }

        var next = 0L;
        var mixed = await SessionsLoad.MeasureAsync("GET /v1/sources (typical queries, mixed)", options, async token =>
        {
            var query = Queries[(int)(Interlocked.Increment(ref next) % Queries.Length)];
            using var response = await http.GetAsync($"v1/sources?{query}", HttpCompletionOption.ResponseContentRead, token);
            return response.StatusCode == HttpStatusCode.OK;
        });
        var constant = await http.GetStringAsync($"v1/sources?{Queries[0]}");
        var bare = await MeasureBareKestrelAsync(options, constant);

        var single = options with { Concurrency = 1, Seconds = Math.Max(1, options.Seconds / 5), WarmupSeconds = 0 };
        var perQuery = new List<SessionsLoadResult>();
        foreach (var query in Queries)
        {
            perQuery.Add(await SessionsLoad.MeasureAsync($"  one at a time: {query}", single, async token =>
            {
                using var response = await http.GetAsync($"v1/sources?{query}", HttpCompletionOption.ResponseContentRead, token);
                return response.StatusCode == HttpStatusCode.OK;
            }));
        }

        Console.WriteLine();
        Console.WriteLine($"{"measurement",-44} {"req/s",10} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
        Console.WriteLine(mixed.Row());
        Console.WriteLine(bare.Row());
        foreach (var result in perQuery) Console.WriteLine(result.Row());
        Console.WriteLine();
        Console.WriteLine($"ratio GET /v1/sources / bare Kestrel constant answer: " +
                          (bare.PerSecond > 0 ? $"{mixed.PerSecond / bare.PerSecond:0.000} ({mixed.PerSecond:0} / {bare.PerSecond:0} per s)" : "n/a"));
        Console.WriteLine($"p99 GET /v1/sources (mixed, concurrency {options.Concurrency}): {mixed.P99Ms:0.00} ms; " +
                          $"worst single-query p99: {perQuery.Max(r => r.P99Ms):0.00} ms");
        return mixed.Errors + perQuery.Sum(r => r.Errors) > 0 ? 1 : 0;
    }

    /// <summary>The floor: Kestrel on 127.0.0.1 answering the same search JSON as a constant, Bearer header checked.</summary>
    private static async Task<SessionsLoadResult> MeasureBareKestrelAsync(SessionsBenchmarkOptions options, string json)
    {
        await using var floor = await BareKestrel.StartAsync("/v1/sources", json);
        using var http = SessionsBenchmark.CreateClient(floor.Url, "bench", options.Concurrency);
        var next = 0L;
        return await SessionsLoad.MeasureAsync("bare Kestrel, constant search answer", options, async token =>
        {
            var query = Queries[(int)(Interlocked.Increment(ref next) % Queries.Length)];
            using var response = await http.GetAsync($"v1/sources?{query}", HttpCompletionOption.ResponseContentRead, token);
            return response.StatusCode == HttpStatusCode.OK;
        });
    }

    /// <summary>The service under test: one already running, or a silo and an Api of our own.</summary>
    internal sealed class Service : IAsyncDisposable
    {
        private readonly List<Process> _processes = [];
        private string? _database;
        private string _admin = "";

        public Uri Api { get; private set; } = null!;
        public string Key { get; private set; } = "";

        public static async Task<Service?> UseOrStartAsync(SessionsBenchmarkOptions options)
        {
            var service = new Service();
            var givenKey = options.ApiKey is { } k && k != "unused-until-known" ? k : Environment.GetEnvironmentVariable("PATIENTCONNECT_DEV_API_KEY");
            if (givenKey is not null && await AnswersAsync(options.Api))
            {
                service.Api = options.Api;
                service.Key = givenKey;
                return service;
            }
            try
            {
                await service.StartAsync(options.Postgres);
                return service;
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"could not start the service: {e.Message}");
                await service.DisposeAsync();
                return null;
            }
        }

        /// <summary>Always a silo and an Api of our own (the hosted-typing benchmark sets the Api's hosted-page settings).</summary>
        public static async Task<Service?> StartOwnAsync(string postgres, IReadOnlyDictionary<string, string> apiEnvironment,
            IReadOnlyDictionary<string, string>? siloEnvironment = null)
        {
            var service = new Service();
            try
            {
                await service.StartAsync(postgres, apiEnvironment, siloEnvironment);
                return service;
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"could not start the service: {e.Message}");
                await service.DisposeAsync();
                return null;
            }
        }

        private static async Task<bool> AnswersAsync(Uri api)
        {
            using var http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(2) };
            try
            {
                using var ready = await http.GetAsync("health/ready");
                return ready.IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }

        private async Task StartAsync(string postgres, IReadOnlyDictionary<string, string>? apiEnvironment = null,
            IReadOnlyDictionary<string, string>? siloEnvironment = null)
        {
            var root = AppContext.BaseDirectory;
            while (!File.Exists(Path.Combine(root, "Orleans.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            string Dll(string project, string name) => Path.Combine(root, project, "bin", configuration, "net10.0", name + ".dll");

            _admin = postgres;
            _database = "bench_directory_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            var role = new NpgsqlConnectionStringBuilder(postgres).Username;
            await using (var connection = new NpgsqlConnection(postgres))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"create database {_database} owner \"{role}\"", connection);
                await create.ExecuteNonQueryAsync();
            }
            var connectionString = new NpgsqlConnectionStringBuilder(postgres) { Database = _database }.ConnectionString;
            var apiPort = FreePorts.Next();
            Api = new Uri($"http://127.0.0.1:{apiPort}/");
            Key = "pc_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            var cluster = "bench-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            var common = new Dictionary<string, string>
            {
                ["ConnectionStrings__Postgres"] = connectionString,
                ["Orleans__ClusterId"] = cluster,
                ["Orleans__ServiceId"] = cluster,
                ["PatientConnect__PublicBaseUrl"] = Api.ToString().TrimEnd('/'),
                ["PatientConnect__AllowLoopbackHttp"] = "true",
                ["PatientConnect__Outbound__AllowLoopback"] = "true",
                ["PatientConnect__RateLimits__Enabled"] = "false",
                ["Logging__LogLevel__Default"] = "Warning",
            };
            var silo = new Dictionary<string, string>(common)
            {
                ["Orleans__SiloPort"] = FreePorts.Next().ToString(),
                ["Orleans__GatewayPort"] = FreePorts.Next().ToString(),
                ["PatientConnect__TokenEncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                ["PATIENTCONNECT_DEV_API_KEY"] = Key,
            };
            foreach (var (key, value) in siloEnvironment ?? new Dictionary<string, string>()) silo[key] = value;
            Console.WriteLine($"  starting a silo and an Api ({configuration}) on database {_database}");
            var migrate = Start(Dll("Silo", "PatientConnect.Silo"), ["--migrate-only"], silo);
            if (!migrate.WaitForExit(120_000) || migrate.ExitCode != 0) throw new InvalidOperationException("Silo --migrate-only failed");
            _processes.Remove(migrate);
            migrate.Dispose();
            Start(Dll("Silo", "PatientConnect.Silo"), [], silo);
            var api = new Dictionary<string, string>(common);
            foreach (var (key, value) in apiEnvironment ?? new Dictionary<string, string>()) api[key] = value;
            Start(Dll("Api", "PatientConnect.Api"), ["--urls", $"http://127.0.0.1:{apiPort}"], api);
            var clock = Stopwatch.StartNew();
            while (!await AnswersAsync(Api))
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException("the Api was not ready after 120 s");
                if (_processes.Any(p => p.HasExited)) throw new InvalidOperationException("a service process exited while starting");
                await Task.Delay(250);
            }
            Console.WriteLine($"  ready after {clock.Elapsed.TotalSeconds:0.0} s");
        }

        private Process Start(string dll, string[] args, Dictionary<string, string> environment)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(dll);
            foreach (var arg in args) info.ArgumentList.Add(arg);
            foreach (var (key, value) in environment) info.Environment[key] = value;
            var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {dll}");
            // Drained so a chatty process never blocks on a full pipe.
            var name = Path.GetFileNameWithoutExtension(dll);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line && (line.Contains("fail", StringComparison.OrdinalIgnoreCase) || line.Contains("error", StringComparison.OrdinalIgnoreCase)))
                {
                    Console.Error.WriteLine($"  [{name}] {line}");
                }
            };
            process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) Console.Error.WriteLine($"  [{name}] {line}"); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _processes.Add(process);
            return process;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var process in Enumerable.Reverse(_processes))
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
                process.Dispose();
            }
            if (_database is not null)
            {
                NpgsqlConnection.ClearAllPools();
                await using var connection = new NpgsqlConnection(_admin);
                await connection.OpenAsync();
                await using var drop = new NpgsqlCommand($"drop database if exists {_database} with (force)", connection);
                await drop.ExecuteNonQueryAsync();
            }
        }
    }
}

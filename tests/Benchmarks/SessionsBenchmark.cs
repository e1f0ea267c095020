using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace PatientConnect.Benchmarks;

/// <summary>
/// `sessions`: POST and GET /v1/patient-sessions/{id} against the running service, each next to
/// its floor measured in the same run on the same machine: a durable single-row Npgsql insert (what
/// creating a session must at least cost) and a bare Kestrel endpoint answering the same JSON (what
/// reading one must at least cost). Prints requests/s, latencies and the two ratios.
///
///   sessions [--api http://127.0.0.1:8080] [--key KEY] [--pg CONNSTR] [--concurrency 16] [--seconds 10]
///
/// Defaults come from PATIENTCONNECT_API, PATIENTCONNECT_DEV_API_KEY and PATIENTCONNECT_PG (bench.sh sets them).
/// </summary>
public static class SessionsBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = SessionsBenchmarkOptions.Parse(args);
        if (options is null) return 2;
        Console.WriteLine($"sessions benchmark: concurrency {options.Concurrency}, {options.Seconds} s per measurement (+{options.WarmupSeconds} s warm-up), " +
                          $"{Environment.ProcessorCount} cores");
        Console.WriteLine($"  api {options.Api}");

        using var http = CreateClient(options.Api, options.ApiKey, options.Concurrency);
        using (var ready = await http.GetAsync("health/ready"))
        {
            if (!ready.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"{options.Api}health/ready answered {(int)ready.StatusCode}: start the service first (./run.sh or ./bench.sh).");
                return 1;
            }
        }

        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var returnUrl = new Uri(options.Api, "health/live").ToString();
        var counter = 0L;
        var created = new System.Collections.Concurrent.ConcurrentBag<string>();

        // One patient per session, like an app onboarding users: the patient grain's list stays short.
        async Task<bool> PostSession(CancellationToken token)
        {
            var n = Interlocked.Increment(ref counter);
            using var content = new StringContent(
                $"{{\"patient_id\":\"bench-{run}-{n}\",\"return_url\":\"{returnUrl}\",\"metadata\":{{\"n\":{n}}}}}",
                Encoding.UTF8, "application/json");
            using var response = await http.PostAsync("v1/patient-sessions", content, token);
            if (response.StatusCode != HttpStatusCode.Created) return false;
            using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(token), cancellationToken: token);
            if (created.Count < 10_000) created.Add(body.RootElement.GetProperty("id").GetString()!);
            return true;
        }

        var post = await SessionsLoad.MeasureAsync("POST /v1/patient-sessions", options, PostSession);
        var ids = created.ToArray();
        if (ids.Length == 0)
        {
            Console.Error.WriteLine("no session was created; is the API key right?");
            return 1;
        }

        var sample = await http.GetStringAsync($"v1/patient-sessions/{ids[0]}");
        var get = await SessionsLoad.MeasureAsync("GET /v1/patient-sessions/{id}", options, async token =>
        {
            var id = ids[Random.Shared.Next(ids.Length)];
            using var response = await http.GetAsync($"v1/patient-sessions/{id}", HttpCompletionOption.ResponseContentRead, token);
            return response.StatusCode == HttpStatusCode.OK;
        });

        var insert = await MeasureNpgsqlAsync(options, sample);
        var kestrel = await MeasureBareKestrelAsync(options, sample);

        Console.WriteLine();
        Console.WriteLine($"{"measurement",-44} {"req/s",10} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
        foreach (var result in new[] { post, insert, get, kestrel }) Console.WriteLine(result.Row());
        Console.WriteLine();
        Console.WriteLine($"ratio POST /v1/patient-sessions / Npgsql durable insert:  {Ratio(post, insert)}");
        Console.WriteLine($"ratio GET /v1/patient-sessions/{{id}} / bare Kestrel JSON: {Ratio(get, kestrel)}");
        return post.Errors + get.Errors > 0 ? 1 : 0;
    }

    private static string Ratio(SessionsLoadResult service, SessionsLoadResult floor) =>
        floor.PerSecond > 0 ? $"{service.PerSecond / floor.PerSecond:0.000} ({service.PerSecond:0} / {floor.PerSecond:0} per s)" : "n/a";

    private static HttpClient CreateClient(Uri api, string? key, int concurrency)
    {
        var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = concurrency,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
        })
        {
            BaseAddress = api,
            Timeout = TimeSpan.FromSeconds(30),
        };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>
    /// The floor of a create: one row with the session's JSON, committed durably (synchronous_commit
    /// on, one transaction per row, one pooled connection per worker), in a table of its own that is
    /// dropped afterwards.
    /// </summary>
    private static async Task<SessionsLoadResult> MeasureNpgsqlAsync(SessionsBenchmarkOptions options, string json)
    {
        var table = "bench_sessions_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var builder = new NpgsqlConnectionStringBuilder(options.Postgres) { MaxPoolSize = Math.Max(options.Concurrency, 20) };
        await using var source = NpgsqlDataSource.Create(builder.ConnectionString);
        await using (var create = source.CreateCommand(
                         $"create table {table} (id text primary key, body jsonb not null, created_at timestamptz not null default now())"))
        {
            await create.ExecuteNonQueryAsync();
        }
        await using (var durable = source.CreateCommand("show synchronous_commit"))
        {
            Console.WriteLine($"  postgres synchronous_commit = {await durable.ExecuteScalarAsync()}");
        }
        try
        {
            return await SessionsLoad.MeasureAsync("Npgsql single-row durable insert", options, async token =>
            {
                await using var command = source.CreateCommand($"insert into {table} (id, body) values ($1, $2::jsonb)");
                command.Parameters.Add(new NpgsqlParameter { Value = "ps_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)) });
                command.Parameters.Add(new NpgsqlParameter { Value = json });
                return await command.ExecuteNonQueryAsync(token) == 1;
            });
        }
        finally
        {
            await using var drop = source.CreateCommand($"drop table if exists {table}");
            await drop.ExecuteNonQueryAsync();
        }
    }

    /// <summary>The floor of a read: Kestrel on 127.0.0.1 answering the same bytes, with the same Bearer check shape.</summary>
    private static async Task<SessionsLoadResult> MeasureBareKestrelAsync(SessionsBenchmarkOptions options, string json)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        var body = Encoding.UTF8.GetBytes(json);
        app.MapGet("/v1/patient-sessions/{id}", async (string id, HttpContext context) =>
        {
            if (!context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.Body.WriteAsync(body);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = CreateClient(new Uri(address + "/"), options.ApiKey ?? "bench", options.Concurrency);
        try
        {
            return await SessionsLoad.MeasureAsync("bare Kestrel, same JSON", options, async token =>
            {
                using var response = await http.GetAsync("v1/patient-sessions/ps_bench", HttpCompletionOption.ResponseContentRead, token);
                return response.StatusCode == HttpStatusCode.OK;
            });
        }
        finally
        {
            await app.StopAsync();
        }
    }
}

public sealed record SessionsBenchmarkOptions(Uri Api, string? ApiKey, string Postgres, int Concurrency, int Seconds, int WarmupSeconds)
{
    public static SessionsBenchmarkOptions? Parse(string[] args)
    {
        var api = Environment.GetEnvironmentVariable("PATIENTCONNECT_API") is { Length: > 0 } a ? a : "http://127.0.0.1:8080";
        var key = Environment.GetEnvironmentVariable("PATIENTCONNECT_DEV_API_KEY");
        var pg = Environment.GetEnvironmentVariable("PATIENTCONNECT_PG") is { Length: > 0 } p
            ? p
            : "Host=127.0.0.1;Port=55432;Username=patientconnect;Password=patientconnect;Database=patientconnect";
        int concurrency = 16, seconds = 10, warmup = 2;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "sessions": continue;
                case "--api" when value is not null: api = value; i++; break;
                case "--key" when value is not null: key = value; i++; break;
                case "--pg" when value is not null: pg = value; i++; break;
                case "--concurrency" when int.TryParse(value, out var c) && c is > 0 and <= 1024: concurrency = c; i++; break;
                case "--seconds" when int.TryParse(value, out var s) && s is > 0 and <= 600: seconds = s; i++; break;
                case "--warmup" when int.TryParse(value, out var w) && w is >= 0 and <= 60: warmup = w; i++; break;
                default:
                    Console.Error.WriteLine($"unknown or invalid argument '{args[i]}'");
                    Console.Error.WriteLine("usage: sessions [--api URL] [--key KEY] [--pg CONNSTR] [--concurrency 1..1024] [--seconds 1..600] [--warmup 0..60]");
                    return null;
            }
        }
        if (string.IsNullOrEmpty(key))
        {
            Console.Error.WriteLine("no API key: pass --key or set PATIENTCONNECT_DEV_API_KEY (./run.sh prints it)");
            return null;
        }
        return new SessionsBenchmarkOptions(new Uri(api.TrimEnd('/') + "/"), key, pg, concurrency, seconds, warmup);
    }
}

public sealed record SessionsLoadResult(string Name, long Count, int Errors, TimeSpan Elapsed, double P50Ms, double P99Ms)
{
    public double PerSecond => Elapsed.TotalSeconds > 0 ? Count / Elapsed.TotalSeconds : 0;

    public string Row() => $"{Name,-44} {PerSecond,10:0} {P50Ms,8:0.00} {P99Ms,8:0.00} {Errors,7}";
}

/// <summary>A fixed number of workers, each sending its next request when the last is answered, for a fixed time.</summary>
public static class SessionsLoad
{
    // A bound on work even if the clock misbehaves: no measurement sends more than this per worker.
    private const int MaxOperationsPerWorker = 5_000_000;

    public static async Task<SessionsLoadResult> MeasureAsync(string name, SessionsBenchmarkOptions options, Func<CancellationToken, Task<bool>> operation)
    {
        Console.Write($"  {name} ... ");
        if (options.WarmupSeconds > 0) await RunAsync(options.Concurrency, TimeSpan.FromSeconds(options.WarmupSeconds), operation);
        var result = await RunAsync(options.Concurrency, TimeSpan.FromSeconds(options.Seconds), operation);
        var summary = new SessionsLoadResult(name, result.Count, result.Errors, result.Elapsed, Percentile(result.Latencies, 0.50), Percentile(result.Latencies, 0.99));
        Console.WriteLine($"{summary.PerSecond:0}/s");
        return summary;
    }

    private static async Task<(long Count, int Errors, TimeSpan Elapsed, List<double> Latencies)> RunAsync(
        int concurrency, TimeSpan duration, Func<CancellationToken, Task<bool>> operation)
    {
        using var stop = new CancellationTokenSource(duration);
        var count = 0L;
        var errors = 0;
        var latencies = new List<double>[concurrency];
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<double>(4096);
            for (var i = 0; i < MaxOperationsPerWorker && !stop.IsCancellationRequested; i++)
            {
                var started = Stopwatch.GetTimestamp();
                bool ok;
                try
                {
                    // The stop token is not passed on: a request in flight finishes and is counted.
                    ok = await operation(CancellationToken.None);
                }
                catch (Exception e) when (e is HttpRequestException or NpgsqlException or TaskCanceledException or JsonException)
                {
                    ok = false;
                }
                if (ok)
                {
                    Interlocked.Increment(ref count);
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                else
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = clock.Elapsed;
        return (count, errors, elapsed, latencies.SelectMany(l => l ?? []).ToList());
    }

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        values.Sort();
        return values[Math.Min(values.Count - 1, (int)Math.Ceiling(p * values.Count) - 1)];
    }
}

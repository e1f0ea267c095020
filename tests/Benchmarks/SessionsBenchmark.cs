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
/// `sessions`: the hot paths of issue 13 against a stack of its own (free ports, fresh database, N silos),
/// each next to its floor measured in the same run on the same machine, at every concurrency asked:
/// POST /v1/patient-sessions vs a durable single-row Npgsql insert; GET session, GET connection and a
/// patient's list (limit 50) vs bare Kestrel answering the same JSON. Then cost growth (1,000 vs
/// 1,000,000 stored sessions; a patient with 10,000 past sessions vs one; WAL bytes per create) and,
/// with several silos, the work each silo did.
///
///   sessions [--silos 1] [--api-in-silo] [--concurrency 16,64] [--seconds 10] [--warmup 2] [--stored 1000000] [--history 10000]
///            [--configuration Release] [--pg ADMIN_CONNSTR] [--api URL --key KEY (an already running service: throughput only)]
/// </summary>
public static class SessionsBenchmark
{
    private static readonly (string Name, double Goal)[] Goals =
    [
        ("create", 0.40), ("get session", 0.50), ("get connection", 0.50), ("list sessions", 0.25),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var options = SessionsBenchOptions.Parse(args);
        if (options is null) return 2;
        Console.WriteLine($"sessions benchmark: concurrency {string.Join(", ", options.Concurrency)}, {options.Seconds} s per measurement " +
                          $"(+{options.WarmupSeconds} s warm-up), {Environment.ProcessorCount} cores, {options.Silos} silo(s)");

        SessionsBenchStack? stack = null;
        if (options.Api is null)
        {
            Console.WriteLine($"  starting a stack of its own ({options.Configuration}, {options.Silos} silo(s), " +
                              $"{(options.ApiInSilo ? "the Api inside every silo" : "the Api as its own process")}, free ports, fresh database) ...");
            stack = await SessionsBenchStack.StartAsync(options.Postgres, options.Configuration, options.Silos, options.ApiInSilo);
        }
        try
        {
            var api = stack?.ApiEndpoints[0] ?? options.Api!;
            var key = stack?.ApiKey ?? options.ApiKey!;
            var database = stack?.ConnectionString ?? options.Postgres;
            Console.WriteLine($"  api {api}");
            return await RunAgainstAsync(options, api, key, database, stack);
        }
        finally
        {
            if (stack is not null) await stack.DisposeAsync();
        }
    }

    private static async Task<int> RunAgainstAsync(SessionsBenchOptions options, Uri api, string key, string database, SessionsBenchStack? stack)
    {
        var maxConcurrency = options.Concurrency.Max();
        using var http = CreateClient(api, key, Math.Max(maxConcurrency, 4));
        // The Api inside every silo: requests spread over the silos in turn, as a load balancer would.
        var endpoints = (stack?.ApiEndpoints ?? [api]).Select(e => e == api ? http : CreateClient(e, key, Math.Max(maxConcurrency, 4))).ToArray();
        var turn = 0L;
        HttpClient Next() => endpoints[(int)(Interlocked.Increment(ref turn) % endpoints.Length)];
        using var browser = CreateClient(api, null, 4);
        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var returnUrl = new Uri(api, "health/live").ToString();
        var errors = 0;

        // Fixtures: a connection (one real connect flow through the sandbox) and a patient with a full list page.
        var connectionId = stack is null ? null : await ConnectAsync(http, browser, stack, returnUrl);
        var listPatient = $"bench-{run}-list";
        for (var i = 0; i < 60; i++) await CreateAsync(http, listPatient, returnUrl, i);

        var growth = stack is null ? null : new SessionsGrowth(http, database, run, returnUrl);
        var baseline = growth is null ? null : await growth.MeasureAsync("baseline");

        var hopFloor = stack is { ApiInSilo: false } && connectionId is not null
            ? await StartHopFloorAsync(stack, http, listPatient, connectionId)
            : null;
        var counter = 0L;
        var created = new System.Collections.Concurrent.ConcurrentBag<string>();
        var rows = new List<(int Concurrency, string Path, SessionsLoadResult Service, SessionsLoadResult Floor, double Goal)>();
        // With --rounds N each concurrency runs N times, every path next to its floor in turn, and the table
        // shows the round with the median ratio: a burst of other load on the machine spoils one round, not the figure.
        foreach (var (concurrency, round) in options.Concurrency.SelectMany(c => Enumerable.Range(1, options.Rounds).Select(r => (c, r))))
        {
            Console.WriteLine(options.Rounds == 1 ? $"concurrency {concurrency}:" : $"concurrency {concurrency}, round {round} of {options.Rounds}:");
            var at = options with { Concurrency = [concurrency] };
            var cpuBefore = stack is null ? null : new CpuMeter(stack.ProcessIds).Read();
            var createdBefore = stack is null ? null : await SiloCountersAsync(stack);

            // One patient per session, like an app onboarding users.
            var post = await SessionsLoad.MeasureAsync("POST /v1/patient-sessions", at, concurrency, async token =>
            {
                var n = Interlocked.Increment(ref counter);
                var id = await CreateAsync(Next(), $"bench-{run}-{n}", returnUrl, n, token);
                if (id is not null && created.Count < 20_000) created.Add(id);
                return id is not null;
            });
            var ids = created.ToArray();
            if (ids.Length == 0)
            {
                Console.Error.WriteLine("no session was created; is the API key right?");
                return 1;
            }
            var sessionJson = await http.GetStringAsync($"v1/patient-sessions/{ids[0]}");
            var insert = await MeasureNpgsqlAsync(at, concurrency, database, sessionJson);
            rows.Add((concurrency, "create", post, insert, 0.40));

            // An app polls the sessions its patients have open: 1,000 of them, warmed up by the warm-up
            // (the first GET of a session activates its grain from its row; that cost is in the growth section).
            var polled = ids.Take(1_000).ToArray();
            var get = await SessionsLoad.MeasureAsync("GET /v1/patient-sessions/{id}", at, concurrency, async token =>
                await OkAsync(Next(), $"v1/patient-sessions/{polled[Random.Shared.Next(polled.Length)]}", token));
            var sessionFloor = await MeasureBareKestrelAsync(at, concurrency, key, sessionJson);
            rows.Add((concurrency, "get session", get, sessionFloor, 0.50));

            if (connectionId is not null)
            {
                var connectionJson = await http.GetStringAsync($"v1/connections/{connectionId}");
                var connection = await SessionsLoad.MeasureAsync("GET /v1/connections/{id}", at, concurrency, async token =>
                    await OkAsync(Next(), $"v1/connections/{connectionId}", token));
                var connectionFloor = await MeasureBareKestrelAsync(at, concurrency, key, connectionJson);
                rows.Add((concurrency, "get connection", connection, connectionFloor, 0.50));
                errors += connection.Errors;

                // The separate Api's topology alone (a process of its own, one grain call, constant bytes):
                // what the default topology could reach if the Api did nothing else per request.
                if (hopFloor is not null)
                {
                    using var hop = CreateClient(hopFloor, key, concurrency);
                    var hopSession = await SessionsLoad.MeasureAsync("Kestrel process + IPatientSessionGrain.Get", at, concurrency, async token =>
                        await OkAsync(hop, $"session/{polled[Random.Shared.Next(polled.Length)]}", token));
                    rows.Add((concurrency, "hop session", hopSession, sessionFloor, double.NaN));
                    var hopConnection = await SessionsLoad.MeasureAsync("Kestrel process + IConnectionGrain.Get", at, concurrency, async token =>
                        await OkAsync(hop, $"connection/{connectionId}", token));
                    rows.Add((concurrency, "hop connection", hopConnection, connectionFloor, double.NaN));
                    errors += hopSession.Errors + hopConnection.Errors;
                }
            }

            var listPath = $"v1/patients/{listPatient}/patient-sessions?limit=50";
            var listJson = await http.GetStringAsync(listPath);
            var list = await SessionsLoad.MeasureAsync("GET /v1/patients/{p}/patient-sessions?limit=50", at, concurrency, async token =>
                await OkAsync(Next(), listPath, token));
            rows.Add((concurrency, "list sessions", list, await MeasureBareKestrelAsync(at, concurrency, key, listJson), 0.25));

            if (stack is not null)
            {
                var cpuAfter = new CpuMeter(stack.ProcessIds).Read();
                var createdAfter = await SiloCountersAsync(stack);
                Console.WriteLine($"  cpu during the service measurements: {CpuMeter.Describe(cpuBefore!, cpuAfter)}");
                Console.WriteLine("  per silo: " + string.Join(", ", Enumerable.Range(0, stack.SiloHttp.Count).Select(i =>
                    $"silo{i} {createdAfter[i].Created - createdBefore![i].Created:0} sessions created, " +
                    $"{createdAfter[i].Calls - createdBefore[i].Calls:0} messages received")));
            }
            errors += post.Errors + get.Errors + list.Errors;
        }

        Console.WriteLine();
        Console.WriteLine($"{"conc",4} {"path",-15} {"service/s",10} {"p50 ms",7} {"p99 ms",7} {"floor/s",10} {"p50 ms",7} {"p99 ms",7} {"ratio",6} {"goal",5}  {"",4} floor");
        static double RatioOf(SessionsLoadResult service, SessionsLoadResult floor) => floor.PerSecond > 0 ? service.PerSecond / floor.PerSecond : 0;
        var medians = rows.GroupBy(r => (r.Concurrency, r.Path)).Select(g =>
        {
            var sorted = g.OrderBy(r => RatioOf(r.Service, r.Floor)).ToList();
            return (Row: sorted[(sorted.Count - 1) / 2], Ratios: g.Select(r => RatioOf(r.Service, r.Floor)).ToList());
        }).ToList();
        foreach (var ((concurrency, path, service, floor, goal), ratios) in medians)
        {
            var ratio = RatioOf(service, floor);
            // Rows without a goal are context: the topology's own floor beside the goal rows.
            var verdict = double.IsNaN(goal) ? $"{"-",5}  {"",4}" : $"{goal,5:0.00}  {(ratio >= goal ? "met" : "MISS"),4}";
            Console.WriteLine($"{concurrency,4} {path,-15} {service.PerSecond,10:0} {service.P50Ms,7:0.00} {service.P99Ms,7:0.00} " +
                              $"{floor.PerSecond,10:0} {floor.P50Ms,7:0.00} {floor.P99Ms,7:0.00} {ratio,6:0.000} {verdict} {floor.Name}" +
                              (ratios.Count > 1 ? $" (rounds: {string.Join(" ", ratios.Select(r => r.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)))})" : ""));
        }

        if (growth is not null && baseline is not null)
        {
            await growth.FillAsync(options.Stored, options.History);
            var grown = await growth.MeasureAsync("grown");
            growth.Print(baseline, grown);
        }
        return errors > 0 ? 1 : 0;
    }

    internal static async Task<string?> CreateAsync(HttpClient http, string patient, string returnUrl, long n, CancellationToken token = default)
    {
        using var content = new StringContent(
            $"{{\"patient_id\":\"{patient}\",\"return_url\":\"{returnUrl}\",\"metadata\":{{\"n\":{n}}}}}",
            Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("v1/patient-sessions", content, token);
        if (response.StatusCode != HttpStatusCode.Created) return null;
        using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(token), cancellationToken: token);
        return body.RootElement.GetProperty("id").GetString();
    }

    internal static async Task<bool> OkAsync(HttpClient http, string path, CancellationToken token)
    {
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead, token);
        return response.StatusCode == HttpStatusCode.OK;
    }

    /// <summary>One direct-mode connect flow through the sandbox (scripted consent): the new connection's id.</summary>
    private static async Task<string> ConnectAsync(HttpClient http, HttpClient browser, SessionsBenchStack stack, string returnUrl)
    {
        var sources = JsonDocument.Parse(await http.GetStringAsync("v1/sources?q=riverside&limit=100"));
        var sourceId = sources.RootElement.GetProperty("data").EnumerateArray()
            .First(s => s.GetProperty("fhir_base_url").GetString()!.TrimEnd('/') == stack.FhirBase("riverside").TrimEnd('/'))
            .GetProperty("id").GetString()!;
        using var content = new StringContent(
            $"{{\"patient_id\":\"bench-connected\",\"return_url\":\"{returnUrl}\",\"source_id\":\"{sourceId}\"}}", Encoding.UTF8, "application/json");
        using var created = await http.PostAsync("v1/patient-sessions", content);
        var session = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        var sessionId = session.GetProperty("id").GetString()!;
        using var page = await browser.GetAsync(session.GetProperty("url").GetString());
        using var consent = new HttpRequestMessage(HttpMethod.Get, page.Headers.Location);
        consent.Headers.Add("X-Sandbox-Consent", "approve");
        using var authorized = await browser.SendAsync(consent);
        using var callback = await browser.GetAsync(authorized.Headers.Location);
        var done = JsonDocument.Parse(await http.GetStringAsync($"v1/patient-sessions/{sessionId}")).RootElement;
        return done.GetProperty("connection_id").GetString()
            ?? throw new InvalidOperationException($"the connect flow made no connection: {done}");
    }

    /// <summary>Per silo: the sessions-created counter and the messages its dispatcher received (grain calls), from its /metrics.</summary>
    private static async Task<(double Created, double Calls)[]> SiloCountersAsync(SessionsBenchStack stack)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var result = new (double, double)[stack.SiloHttp.Count];
        for (var i = 0; i < stack.SiloHttp.Count; i++)
        {
            var text = await http.GetStringAsync(new Uri(stack.SiloHttp[i], "metrics"));
            result[i] = (Sum(text, "patientconnect_sessions_created"), Sum(text, "orleans_messaging_processing_dispatcher_received"));
        }
        return result;

        static double Sum(string text, string prefix) => text.Split('\n')
            .Where(l => l.StartsWith(prefix, StringComparison.Ordinal))
            .Select(l => double.TryParse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0)
            .Sum();
    }

    /// <summary>
    /// Starts the topology floor with a listed session's and the connection's JSON, and warms it up as the
    /// Api is by then (JIT tiers, connections to the gateway), so its first round is not its start-up.
    /// </summary>
    private static async Task<Uri> StartHopFloorAsync(SessionsBenchStack stack, HttpClient http, string listPatient, string connectionId)
    {
        using var page = JsonDocument.Parse(await http.GetStringAsync($"v1/patients/{listPatient}/patient-sessions?limit=1"));
        var sessionId = page.RootElement.GetProperty("data")[0].GetProperty("id").GetString()!;
        var url = await stack.StartHopFloorAsync(
            await http.GetStringAsync($"v1/patient-sessions/{sessionId}"), await http.GetStringAsync($"v1/connections/{connectionId}"));
        using var hop = CreateClient(url, stack.ApiKey, 8);
        await Parallel.ForAsync(0, 20_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, token) =>
        {
            if (!await OkAsync(hop, i % 2 == 0 ? $"session/{sessionId}" : $"connection/{connectionId}", token))
                throw new InvalidOperationException($"the topology floor did not answer 200 for {(i % 2 == 0 ? sessionId : connectionId)}");
        });
        return url;
    }

    internal static HttpClient CreateClient(Uri api, string? key, int concurrency)
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
    private static async Task<SessionsLoadResult> MeasureNpgsqlAsync(SessionsBenchOptions options, int concurrency, string database, string json)
    {
        var table = "bench_sessions_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        // Prepared as the service's own statements are (ClusterSettings turns Npgsql's automatic preparation on
        // with these values), so the floor is what raw Npgsql does at its best, not a slower baseline.
        var builder = new NpgsqlConnectionStringBuilder(database) { MaxPoolSize = Math.Max(concurrency, 20), MaxAutoPrepare = 64, AutoPrepareMinUsages = 2 };
        await using var source = NpgsqlDataSource.Create(builder.ConnectionString);
        await using (var create = source.CreateCommand(
                         $"create table {table} (id text primary key, body jsonb not null, created_at timestamptz not null default now())"))
        {
            await create.ExecuteNonQueryAsync();
        }
        try
        {
            return await SessionsLoad.MeasureAsync("Npgsql single-row durable insert", options, concurrency, async token =>
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
    private static async Task<SessionsLoadResult> MeasureBareKestrelAsync(SessionsBenchOptions options, int concurrency, string key, string json)
    {
        await using var floor = await BareKestrel.StartAsync("/floor", json);
        using var http = CreateClient(floor.Url, key, concurrency);
        return await SessionsLoad.MeasureAsync($"bare Kestrel, same JSON ({floor.Bytes} B)", options, concurrency, async token =>
            await OkAsync(http, "floor", token));
    }
}

/// <summary>The options of `sessions`.</summary>
public sealed record SessionsBenchOptions(
    Uri? Api, string? ApiKey, string Postgres, int[] Concurrency, int Seconds, int WarmupSeconds,
    int Silos, string Configuration, int Stored, int History, bool ApiInSilo, int Rounds = 1)
{
    public static SessionsBenchOptions? Parse(string[] args)
    {
        // A running service only when asked with --api: by default the benchmark starts its own stack.
        string? api = null;
        var key = Environment.GetEnvironmentVariable("PATIENTCONNECT_DEV_API_KEY");
        var pg = Environment.GetEnvironmentVariable("PATIENTCONNECT_PG") is { Length: > 0 } p
            ? p
            : "Host=127.0.0.1;Port=55432;Username=patientconnect;Password=patientconnect;Database=patientconnect";
        int[] concurrency = [16, 64];
        int seconds = 10, warmup = 2, silos = 1, stored = 1_000_000, history = 10_000;
        var configuration = "Release";
        var apiInSilo = false;
        var rounds = 1;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "sessions": continue;
                case "--api" when value is not null: api = value; i++; break;
                case "--key" when value is not null: key = value; i++; break;
                case "--pg" when value is not null: pg = value; i++; break;
                case "--concurrency" when value is not null && ParseList(value) is { } c: concurrency = c; i++; break;
                case "--seconds" when int.TryParse(value, out var s) && s is > 0 and <= 600: seconds = s; i++; break;
                case "--warmup" when int.TryParse(value, out var w) && w is >= 0 and <= 60: warmup = w; i++; break;
                case "--silos" when int.TryParse(value, out var n) && n is >= 1 and <= 9: silos = n; i++; break;
                case "--stored" when int.TryParse(value, out var st) && st is >= 1_000 and <= 10_000_000: stored = st; i++; break;
                case "--history" when int.TryParse(value, out var h) && h is >= 1 and <= 1_000_000: history = h; i++; break;
                case "--configuration" when value is "Release" or "Debug": configuration = value; i++; break;
                case "--api-in-silo": apiInSilo = true; break;
                case "--rounds" when int.TryParse(value, out var r) && r is >= 1 and <= 9: rounds = r; i++; break;
                default:
                    Console.Error.WriteLine($"unknown or invalid argument '{args[i]}'");
                    Console.Error.WriteLine("usage: sessions [--silos 1..9] [--concurrency 16,64] [--seconds 1..600] [--warmup 0..60] " +
                                            "[--stored 1000..10000000] [--history 1..1000000] [--rounds 1..9] [--api-in-silo] [--configuration Release|Debug] [--pg ADMIN_CONNSTR] " +
                                            "[--api URL --key KEY]");
                    return null;
            }
        }
        if (api is not null && string.IsNullOrEmpty(key))
        {
            Console.Error.WriteLine("--api needs an API key: pass --key or set PATIENTCONNECT_DEV_API_KEY");
            return null;
        }
        return new SessionsBenchOptions(api is null ? null : new Uri(api.TrimEnd('/') + "/"), key, pg, concurrency, seconds, warmup,
            silos, configuration, stored, history, apiInSilo, rounds);
    }

    private static int[]? ParseList(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = parts.Select(p => int.TryParse(p, out var v) && v is > 0 and <= 1024 ? v : -1).ToArray();
        return values.Length > 0 && values.All(v => v > 0) ? values : null;
    }
}

/// <summary>The options `directory` shares (one concurrency, a running service).</summary>
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

    public static Task<SessionsLoadResult> MeasureAsync(string name, SessionsBenchmarkOptions options, Func<CancellationToken, Task<bool>> operation) =>
        MeasureAsync(name, options.Concurrency, options.Seconds, options.WarmupSeconds, operation);

    public static Task<SessionsLoadResult> MeasureAsync(string name, SessionsBenchOptions options, int concurrency, Func<CancellationToken, Task<bool>> operation) =>
        MeasureAsync(name, concurrency, options.Seconds, options.WarmupSeconds, operation);

    public static async Task<SessionsLoadResult> MeasureAsync(string name, int concurrency, int seconds, int warmupSeconds,
        Func<CancellationToken, Task<bool>> operation)
    {
        Console.Write($"  {name} ... ");
        if (warmupSeconds > 0) await RunAsync(concurrency, TimeSpan.FromSeconds(warmupSeconds), operation);
        var result = await RunAsync(concurrency, TimeSpan.FromSeconds(seconds), operation);
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

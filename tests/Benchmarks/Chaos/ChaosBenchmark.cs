using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace PatientConnect.Benchmarks.Chaos;

/// <summary>
/// `Benchmarks chaos`: three silos, the sandbox and the Api on free loopback ports; connect flows under
/// load while silos are killed or restarted and Postgres is stopped; a table per scenario.
/// Options: --flows N (1000) --concurrency N (30) --scenarios kill,rolling,postgres,webhooks-sync.
/// Postgres is stopped and started with the commands in CHAOS_PG_STOP / CHAOS_PG_START (chaos.sh sets them
/// for a Postgres of its own, never the one of run.sh or test.sh).
/// </summary>
public static class ChaosBenchmark
{
    private const string ConsentHeader = "X-Sandbox-Consent";

    public static async Task<int> RunAsync(string[] args)
    {
        var flows = IntOption(args, "--flows", 1000);
        var concurrency = IntOption(args, "--concurrency", 30);
        var scenarios = (Option(args, "--scenarios") ?? "kill,rolling,postgres,webhooks-sync").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var admin = Environment.GetEnvironmentVariable("PATIENTCONNECT_PG")
            ?? throw new InvalidOperationException("PATIENTCONNECT_PG is not set (run ./chaos.sh)");

        await using var stack = await ChaosStack.StartAsync(admin, silos: 3);
        Console.WriteLine($"stack: api {stack.Api} sandbox {stack.Sandbox}, 3 silos, flows {flows}, concurrency {concurrency}");
        var results = new List<ChaosTally>();
        foreach (var scenario in scenarios)
        {
            var tally = scenario switch
            {
                "kill" => await KillAsync(stack, flows, concurrency),
                "rolling" => await RollingAsync(stack, flows, concurrency),
                "postgres" => await PostgresAsync(stack),
                "webhooks-sync" => await WebhooksAndSyncAsync(stack),
                _ => throw new ArgumentException($"unknown scenario {scenario}"),
            };
            tally.Print();
            results.Add(tally);
        }
        return 0;
    }

    // ---------------------------------------------------------------- scenarios

    private static async Task<ChaosTally> KillAsync(ChaosStack stack, int flows, int concurrency)
    {
        var tally = new ChaosTally($"SIGKILL one of three silos during {flows} connect flows (concurrency {concurrency})");
        var records = await LoadAsync(stack, tally, "kill", flows, concurrency, async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            tally.FaultAtMs = tally.Clock.ElapsedMilliseconds;
            stack.KillSilo(1);
        });
        await VerifyFlowsAsync(stack, tally, records);
        stack.StartSilo(1);
        await stack.WaitForActiveSilosAsync(3, TimeSpan.FromSeconds(90));
        return tally;
    }

    private static async Task<ChaosTally> RollingAsync(ChaosStack stack, int flows, int concurrency)
    {
        var tally = new ChaosTally($"rolling restart (SIGTERM, start, next) of all three silos during {flows}+ connect flows");
        var restartMs = new List<long>();
        var records = await LoadAsync(stack, tally, "rolling", flows, concurrency, async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            tally.FaultAtMs = tally.Clock.ElapsedMilliseconds;
            for (var i = 0; i < stack.SiloCount; i++)
            {
                var sw = Stopwatch.StartNew();
                await stack.StopSiloAsync(i, TimeSpan.FromSeconds(60));
                stack.StartSilo(i);
                await stack.WaitForActiveSilosAsync(3, TimeSpan.FromSeconds(90));
                restartMs.Add(sw.ElapsedMilliseconds);
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        });
        tally.Extra["silo restart (stop → active again)"] = string.Join(", ", restartMs.Select(ms => $"{ms / 1000.0:0.0} s"));
        await VerifyFlowsAsync(stack, tally, records);
        return tally;
    }

    private static async Task<ChaosTally> PostgresAsync(ChaosStack stack)
    {
        var tally = new ChaosTally("Postgres stopped 15 s under 8 workers of create + get");
        var stop = Environment.GetEnvironmentVariable("CHAOS_PG_STOP");
        var start = Environment.GetEnvironmentVariable("CHAOS_PG_START");
        if (stop is null || start is null)
        {
            tally.Notes.Add("skipped: CHAOS_PG_STOP / CHAOS_PG_START not set (run ./chaos.sh)");
            return tally;
        }
        using var http = Client(stack);
        var acknowledged = new ConcurrentBag<string>();
        var badFailures = 0;
        using var cts = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var n = 0; !cts.IsCancellationRequested; n++)
            {
                var (status, body, problem) = await SendAsync(http, tally, HttpMethod.Post, "v1/patient-sessions",
                    new { patient_id = $"pg-{w}-{n}", return_url = ReturnUrl(stack) });
                if (status == 201) acknowledged.Add(JsonNode.Parse(body)!["id"]!.GetValue<string>());
                else if (!problem) Interlocked.Increment(ref badFailures);
                var get = await SendAsync(http, tally, HttpMethod.Get, $"v1/patients/pg-{w}-{n}/patient-sessions", null);
                if (get.Status != 200 && !get.Problem) Interlocked.Increment(ref badFailures);
                if (status != 201) await Task.Delay(50);
            }
        })).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(5));
        var logBefore = stack.SiloLogBytes;
        tally.FaultAtMs = tally.Clock.ElapsedMilliseconds;
        await Shell(stop);
        await Task.Delay(TimeSpan.FromSeconds(15));
        await Shell(start);
        var upAt = Stopwatch.StartNew();
        // This process's own pooled connections died with the server.
        NpgsqlConnection.ClearAllPools();
        await ChaosStack.WaitAsync(new Uri(stack.Api, "health/ready"), TimeSpan.FromSeconds(60));
        var readyAfter = upAt.Elapsed;
        var logGrowth = stack.SiloLogBytes - logBefore;
        await Task.Delay(TimeSpan.FromSeconds(5));
        await cts.CancelAsync();
        await Task.WhenAll(workers);

        var lost = 0;
        foreach (var id in acknowledged)
        {
            var (status, _, _) = await SendAsync(http, null, HttpMethod.Get, $"v1/patient-sessions/{id}", null);
            if (status == 404) lost++;
        }
        tally.Started = acknowledged.Count;
        tally.Succeeded = acknowledged.Count - lost;
        tally.AcknowledgedLost = lost;
        tally.Extra["sessions acknowledged (201)"] = acknowledged.Count.ToString();
        tally.Extra["failed answers not 503 problem+json with Retry-After"] = Volatile.Read(ref tally.NotProblem503).ToString();
        tally.Extra["answers 500"] = tally.StatusCounts.GetValueOrDefault(500).ToString();
        tally.Extra["Api ready after Postgres started"] = $"{readyAfter.TotalSeconds:0.0} s";
        tally.Extra["silo log growth during outage + recovery (3 silos)"] = $"{logGrowth / 1024.0:0} KiB";
        return tally;
    }

    private static async Task<ChaosTally> WebhooksAndSyncAsync(ChaosStack stack)
    {
        var tally = new ChaosTally("silo killed while webhook events are pending and syncs run");
        await using var receiver = await WebhookReceiver.StartAsync();
        using var http = Client(stack);
        // Events of earlier scenarios were made before this endpoint existed and are not its to receive.
        var before = (await OutboxAsync(stack, 0)).Select(e => e.Sequence).DefaultIfEmpty(0).Max();
        var (createStatus, createBody, _) = await SendAsync(http, null, HttpMethod.Post, "v1/webhook-endpoints", new { url = receiver.Url });
        if (createStatus != 201) throw new InvalidOperationException($"webhook endpoint: {createStatus} {createBody}");

        // Three syncs of mid-sized sandbox patients, one per hospital, each through a connect flow.
        var syncs = new List<(string ConnectionId, Dictionary<string, int> Expected)>();
        foreach (var hospital in new[] { "riverside", "lakeside", "summit" })
        {
            var patient = await PatientNearAsync(stack, hospital, 1500);
            var record = await FlowAsync(stack, http, tally, $"sync-{hospital}", hospital, $"approve; patient={patient.Id}");
            if (record.ConnectionId is null) throw new InvalidOperationException($"sync flow at {hospital} failed: {record.Failure}");
            syncs.Add((record.ConnectionId, patient.Counts));
        }
        foreach (var (connectionId, _) in syncs)
        {
            var (status, body, _) = await SendAsync(http, tally, HttpMethod.Post, $"v1/connections/{connectionId}/sync", new { });
            if (status is not (200 or 202)) tally.Notes.Add($"sync start {connectionId}: {status} {body}");
        }
        // More flows make more events; the kill lands while they are pending and the syncs run.
        var flows = Task.Run(async () =>
        {
            var list = new List<FlowRecord>();
            for (var n = 0; n < 60; n++) list.Add(await FlowAsync(stack, http, tally, $"wh-{n}", "riverside", "approve"));
            return list;
        });
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        // The silo that runs the most syncs is the one killed, so a resumed sync is really shown.
        var hosts = new List<int>();
        foreach (var (connectionId, _) in syncs)
        {
            try
            {
                if (await stack.SiloHostingAsync(connectionId) is { } host) hosts.Add(host);
            }
            catch (Exception e)
            {
                tally.Notes.Add($"where does {connectionId} run: {e.GetType().Name} {e.Message}");
            }
        }
        var victim = hosts.Count == 0 ? 2 : hosts.GroupBy(h => h).OrderByDescending(g => g.Count()).First().Key;
        tally.Extra["syncs running on the killed silo"] = $"{hosts.Count(h => h == victim)} of {syncs.Count} (silo {victim})";
        tally.FaultAtMs = tally.Clock.ElapsedMilliseconds;
        stack.KillSilo(victim);
        var flowRecords = await flows;
        await VerifyFlowsAsync(stack, tally, [.. flowRecords]);

        // Syncs: every one completes with exactly the source's records.
        var exact = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        foreach (var (connectionId, expected) in syncs)
        {
            string? syncStatus = null;
            while (DateTime.UtcNow < deadline)
            {
                var (status, body, _) = await SendAsync(http, null, HttpMethod.Get, $"v1/connections/{connectionId}", null);
                syncStatus = status == 200 ? JsonNode.Parse(body)?["sync"]?["status"]?.GetValue<string>() : null;
                if (syncStatus is "completed" or "failed") break;
                await Task.Delay(1000);
            }
            var stored = await StoredCountsAsync(stack, connectionId);
            // The patient's compartment exactly; referenced resources (and attachments) come on top.
            string[] referenced = ["Binary", "Medication", "Practitioner", "Organization", "Location"];
            var same = expected.All(kv => stored.GetValueOrDefault(kv.Key) == kv.Value)
                && stored.Keys.All(k => referenced.Contains(k) || expected.ContainsKey(k));
            if (syncStatus == "completed" && same) exact++;
            else tally.Notes.Add($"sync {connectionId}: {syncStatus}, stored {string.Join(",", stored.Select(kv => $"{kv.Key}={kv.Value}"))}");
        }
        tally.Extra["syncs completed with exactly the source's records"] = $"{exact} of {syncs.Count}";

        // Webhooks: every event in the outbox reaches the receiver, in order per aggregate.
        var events = await OutboxAsync(stack, before);
        var waitUntil = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < waitUntil && events.Any(e => !receiver.Seen.ContainsKey(e.EventId)))
        {
            await Task.Delay(500);
            events = await OutboxAsync(stack, before);
        }
        var missing = events.Count(e => !receiver.Seen.ContainsKey(e.EventId));
        var outOfOrder = 0;
        foreach (var aggregate in events.GroupBy(e => e.AggregateId))
        {
            var firstSeen = aggregate.Where(e => receiver.Seen.ContainsKey(e.EventId)).Select(e => receiver.Seen[e.EventId]).ToList();
            if (!firstSeen.SequenceEqual(firstSeen.Order())) outOfOrder++;
        }
        tally.Extra["webhook events in the outbox"] = events.Count.ToString();
        tally.Extra["webhook events never delivered"] = missing.ToString();
        tally.Extra["aggregates delivered out of order"] = outOfOrder.ToString();
        tally.Extra["deliveries received (at least once)"] = receiver.Received.ToString();

        stack.StartSilo(victim);
        await stack.WaitForActiveSilosAsync(3, TimeSpan.FromSeconds(90));
        return tally;
    }

    // ---------------------------------------------------------------- flows

    private sealed record FlowRecord(string PatientId, string? SessionId, bool Success, string? ConnectionId, string? Failure);

    private static async Task<FlowRecord[]> LoadAsync(ChaosStack stack, ChaosTally tally, string prefix, int minFlows, int concurrency, Func<Task> fault)
    {
        using var http = Client(stack);
        var records = new ConcurrentBag<FlowRecord>();
        var next = 0;
        var faultDone = 0;
        var faultTask = Task.Run(async () =>
        {
            try { await fault(); }
            finally { Volatile.Write(ref faultDone, 1); }
        });
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var n = Interlocked.Increment(ref next);
                if ((n > minFlows && Volatile.Read(ref faultDone) == 1) || n > minFlows * 5) return;
                records.Add(await FlowAsync(stack, http, tally, $"{prefix}-{n}", "riverside", "approve"));
            }
        })).ToArray();
        await Task.WhenAll(workers);
        await faultTask;
        return [.. records];
    }

    /// <summary>
    /// One connect flow. The app backend retries its POST on 503 with the same Idempotency-Key (as an app
    /// should); the patient's browser does not retry anything.
    /// </summary>
    private static async Task<FlowRecord> FlowAsync(ChaosStack stack, HttpClient http, ChaosTally tally, string patientId, string hospital, string consent)
    {
        Interlocked.Increment(ref tally.Started);
        var sw = Stopwatch.StartNew();
        try
        {
            var key = Guid.NewGuid().ToString("N");
            string? sessionId = null, url = null;
            for (var attempt = 1; attempt <= 5 && sessionId is null; attempt++)
            {
                var (status, body, _) = await SendAsync(http, tally, HttpMethod.Post, "v1/patient-sessions",
                    new { patient_id = patientId, return_url = ReturnUrl(stack), source_id = Ids.SourceIdFor(stack.FhirBase(hospital)) },
                    ("Idempotency-Key", key));
                if (status == 201)
                {
                    var json = JsonNode.Parse(body)!;
                    sessionId = json["id"]!.GetValue<string>();
                    url = json["url"]!.GetValue<string>();
                }
                else if (status == 503) await Task.Delay(TimeSpan.FromSeconds(1));
                else return Fail($"create_{status}", null);
            }
            if (sessionId is null) return Fail("create_503", null);

            var authorize = await RedirectAsync(http, tally, url!, null);
            if (authorize.Location is null) return Fail($"connect_page_{authorize.Status}", sessionId);
            var callback = await RedirectAsync(http, tally, authorize.Location, consent);
            if (callback.Location is null) return Fail($"consent_{callback.Status}", sessionId);
            var back = await RedirectAsync(http, tally, callback.Location, null);
            if (back.Location is null) return Fail($"callback_{back.Status}", sessionId);
            var query = HttpUtility.ParseQueryString(new Uri(back.Location).Query);
            if (query["success"] != "true") return Fail($"return_url:{query["error"]}", sessionId);
            Interlocked.Increment(ref tally.Succeeded);
            return new FlowRecord(patientId, sessionId, true, query["connection_id"], null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return Fail("no_answer", null);
        }
        finally
        {
            ChaosTally.InterlockedMax(ref tally.SlowestFlowMs, sw.ElapsedMilliseconds);
        }

        FlowRecord Fail(string code, string? sessionId)
        {
            tally.Failed(code);
            return new FlowRecord(patientId, sessionId, false, null, code);
        }
    }

    /// <summary>After the load: nothing acknowledged lost, no session stranded beside an active connection, no duplicates.</summary>
    private static async Task VerifyFlowsAsync(ChaosStack stack, ChaosTally tally, FlowRecord[] records)
    {
        using var http = Client(stack);
        // Recovered follow-ups (reminders, re-activations) get a moment to land.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await Parallel.ForEachAsync(records.Where(r => r.SessionId is not null), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (record, _) =>
        {
            var session = await GetWithRetryAsync(http, $"v1/patient-sessions/{record.SessionId}");
            if (session.Status == 404)
            {
                Interlocked.Increment(ref tally.AcknowledgedLost);
                return;
            }
            var sessionStatus = JsonNode.Parse(session.Body)?["status"]?.GetValue<string>();
            var connections = await GetWithRetryAsync(http, $"v1/patients/{record.PatientId}/connections");
            var list = JsonNode.Parse(connections.Body)?["data"]?.AsArray() ?? [];
            if (list.Count > 1) Interlocked.Increment(ref tally.DuplicateConnections);
            var active = list.Any(c => c?["status"]?.GetValue<string>() == "active");
            if (active && sessionStatus is "open" or "expired")
            {
                Interlocked.Increment(ref tally.StrandedSessions);
                tally.Notes.Add($"{record.SessionId} is {sessionStatus} with an active connection");
            }
            if (record.Success && !active) tally.Notes.Add($"{record.SessionId} succeeded but its connection is not active");
        });
    }

    // ---------------------------------------------------------------- HTTP

    private static HttpClient Client(ChaosStack stack)
    {
        var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, MaxConnectionsPerServer = 256 })
        {
            BaseAddress = stack.Api,
            Timeout = TimeSpan.FromSeconds(60),
        };
        http.DefaultRequestHeaders.Authorization = new("Bearer", stack.ApiKey);
        return http;
    }

    private static string ReturnUrl(ChaosStack stack) => new Uri(stack.Api, "health/live?app=chaos").ToString();

    private static async Task<(int Status, string Body, bool Problem)> SendAsync(HttpClient http, ChaosTally? tally, HttpMethod method, string path,
        object? body, (string Name, string Value)? header = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        if (header is { } h) request.Headers.Add(h.Name, h.Value);
        var sw = Stopwatch.StartNew();
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        var problem = status < 400 || (status == 503
            && response.Content.Headers.ContentType?.MediaType == "application/problem+json"
            && response.Headers.RetryAfter is not null);
        if (tally is not null)
        {
            tally.Answer(status, sw.ElapsedMilliseconds, method, new Uri(http.BaseAddress!, path));
            if (status >= 500 && !problem) Interlocked.Increment(ref tally.NotProblem503);
        }
        return (status, text, problem);
    }

    private static async Task<(int Status, string? Location)> RedirectAsync(HttpClient http, ChaosTally tally, string url, string? consent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (consent is not null) request.Headers.Add(ConsentHeader, consent);
        var sw = Stopwatch.StartNew();
        using var response = await http.SendAsync(request);
        tally.Answer((int)response.StatusCode, sw.ElapsedMilliseconds, HttpMethod.Get, response.RequestMessage?.RequestUri ?? new Uri(url));
        if (response.StatusCode is not (HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect)) return ((int)response.StatusCode, null);
        var location = response.Headers.Location!;
        return ((int)response.StatusCode, (location.IsAbsoluteUri ? location : new Uri(request.RequestUri!, location)).ToString());
    }

    private static async Task<(int Status, string Body)> GetWithRetryAsync(HttpClient http, string path)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await http.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode < 500 || attempt == 10) return ((int)response.StatusCode, body);
            await Task.Delay(500);
        }
    }

    // ---------------------------------------------------------------- data

    private sealed record SandboxPatient(string Id, Dictionary<string, int> Counts);

    private static async Task<SandboxPatient> PatientNearAsync(ChaosStack stack, string hospital, int total)
    {
        using var http = new HttpClient();
        var list = JsonNode.Parse(await http.GetStringAsync(new Uri(stack.Sandbox, $"hospitals/{hospital}/patients")))!.AsArray();
        return list.OfType<JsonNode>()
            .Select(p => new SandboxPatient(p["id"]!.GetValue<string>(),
                p["resource_counts"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>(), StringComparer.Ordinal)))
            .OrderBy(p => Math.Abs(p.Counts.Values.Sum() - total))
            .First();
    }

    private static async Task<Dictionary<string, int>> StoredCountsAsync(ChaosStack stack, string connectionId)
    {
        await using var connection = new NpgsqlConnection(stack.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT resource_type, count(*) FROM pc_records WHERE connection_id = @c GROUP BY 1", connection);
        command.Parameters.AddWithValue("c", connectionId);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) counts[reader.GetString(0)] = (int)reader.GetInt64(1);
        return counts;
    }

    private sealed record OutboxEvent(long Sequence, string EventId, string AggregateId);

    private static async Task<List<OutboxEvent>> OutboxAsync(ChaosStack stack, long after)
    {
        await using var connection = new NpgsqlConnection(stack.ConnectionString);
        await connection.OpenAsync();
        // Only events the dispatcher sends (history-only kinds are stored but never delivered).
        await using var command = new NpgsqlCommand(
            "SELECT id, event_id, aggregate_id FROM pc_webhook_outbox WHERE id > @after AND deliver ORDER BY id", connection);
        command.Parameters.AddWithValue("after", after);
        var events = new List<OutboxEvent>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) events.Add(new OutboxEvent(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        return events;
    }

    private static async Task Shell(string command)
    {
        var info = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        using var process = Process.Start(info)!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"`{command}` failed: {await process.StandardError.ReadToEndAsync()}");
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int IntOption(string[] args, string name, int fallback) => Option(args, name) is { } v ? int.Parse(v) : fallback;

    /// <summary>A webhook receiver on 127.0.0.1: the order in which each event id was first seen.</summary>
    private sealed class WebhookReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private long _order;
        public ConcurrentDictionary<string, long> Seen { get; } = new(StringComparer.Ordinal);
        public int Received;
        public string Url { get; }

        private WebhookReceiver(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public static async Task<WebhookReceiver> StartAsync()
        {
            var port = FreePorts.Next();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new WebhookReceiver(app, $"http://127.0.0.1:{port}/hooks");
            app.MapPost("/hooks", (HttpRequest request) =>
            {
                Interlocked.Increment(ref receiver.Received);
                var id = request.Headers["webhook-id"].ToString();
                receiver.Seen.TryAdd(id, Interlocked.Increment(ref receiver._order));
                return Results.Ok();
            });
            await app.StartAsync();
            return receiver;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}

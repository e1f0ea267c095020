using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;
using PatientConnect.Grains.Storage;

namespace PatientConnect.Benchmarks;

/// <summary>
/// `sync`: for the sandbox's largest patient at each hospital, the time from "connection active" to
/// "sync completed" through the whole service, next to a bare HttpClient loop fetching the same
/// pages (same searches, next links, reference reads and attachments) without storing; then records
/// stored/s through our record store next to a raw Npgsql binary COPY of the same JSON. Starts its
/// own stack (sandbox, silo, Api) on free ports and a fresh database.
///
/// Runs once with the sandbox answering as fast as it can (the CPU-bound worst case: the machine's
/// cores are shared by sandbox, silo, Api, Postgres and this client) and once with a per-request
/// latency closer to a real EHR's, where the question is whether storing hides behind fetching.
///
///   sync [--pg ADMIN_CONNSTR] [--configuration Release|Debug] [--rounds 3] [--latency-ms 0,50]
/// </summary>
public static class SyncBenchmark
{
    private static readonly string[] Hospitals = ["riverside", "lakeside", "summit"];

    public static async Task<int> RunAsync(string[] args)
    {
        var pg = Environment.GetEnvironmentVariable("PATIENTCONNECT_PG") is { Length: > 0 } fromEnv
            ? fromEnv
            : "Host=127.0.0.1;Port=55432;Username=patientconnect;Password=patientconnect;Database=patientconnect";
        var configuration = "Release";
        var rounds = 3;
        int[] latencies = [0, 50];
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--pg" when i + 1 < args.Length: pg = args[++i]; break;
                case "--configuration" when i + 1 < args.Length: configuration = args[++i]; break;
                case "--rounds" when i + 1 < args.Length: rounds = int.Parse(args[++i]); break;
                case "--latency-ms" when i + 1 < args.Length: latencies = args[++i].Split(',').Select(int.Parse).ToArray(); break;
                default:
                    Console.Error.WriteLine("usage: sync [--pg ADMIN_CONNSTR] [--configuration Release|Debug] [--rounds 3] [--latency-ms 0,50]");
                    return 2;
            }
        }

        Console.WriteLine($"sync benchmark: {configuration} build, {rounds} round(s) per hospital, source latency {string.Join(" and ", latencies.Select(l => $"{l} ms"))}, {Environment.ProcessorCount} cores");
        await using var stack = await SyncBenchStack.StartAsync(pg, configuration);
        using var api = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = stack.Api };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", stack.ApiKey);
        using var sandbox = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 16 }) { BaseAddress = stack.Sandbox };
        var cpu = new CpuMeter(stack.ProcessIds);
        await using var dataSource = NpgsqlDataSource.Create(stack.ConnectionString);

        var summary = new List<string>();
        var n = 0;
        foreach (var latency in latencies)
        {
            foreach (var hospital in Hospitals) await SetLatencyAsync(sandbox, hospital, latency);
            Console.WriteLine();
            Console.WriteLine($"time from connection active to sync completed (largest sandbox patient), source latency {latency} ms per request,");
            Console.WriteLine("vs a bare HttpClient loop over the same pages (1 worker, and 6 workers like the sync); store-only: the same records upserted alone");
            Console.WriteLine($"  {"hospital",-10} {"resources",9} {"requests",8} {"sync ms",8} {"bare ms",8} {"ratio",6} {"bare×6 ms",9} {"ratio",6} {"store-only ms",13}");
            var ratios = new List<double>();
            var parallelRatios = new List<double>();
            foreach (var hospital in Hospitals)
            {
                var (patientId, total) = await LargestPatientAsync(sandbox, hospital);
                var syncTimes = new List<double>();
                var bareTimes = new List<double>();
                var bareParallel = new List<double>();
                var storeOnly = new List<double>();
                var requests = 0;
                string syncCpu = "", bareCpu = "";
                for (var round = 0; round < rounds; round++)
                {
                    var before = cpu.Read();
                    var (syncMs, connectionId) = await ServiceSyncAsync(api, stack, hospital, patientId, $"bench-{hospital}-{n++}");
                    syncTimes.Add(syncMs);
                    syncCpu = CpuMeter.Describe(before, cpu.Read());
                    storeOnly.Add(await StoreOnlyAsync(dataSource, connectionId, $"bench-floor-{n}"));
                    var token = await SandboxTokenAsync(sandbox, stack, hospital, patientId);
                    before = cpu.Read();
                    var bare = await BareLoop.RunAsync(sandbox, stack.FhirBase(hospital), token, patientId, concurrency: 1);
                    bareCpu = CpuMeter.Describe(before, cpu.Read());
                    bareTimes.Add(bare.Milliseconds);
                    requests = bare.Requests;
                    bareParallel.Add((await BareLoop.RunAsync(sandbox, stack.FhirBase(hospital), token, patientId, concurrency: 6)).Milliseconds);
                }
                // Median of the rounds on each side: one slow round (JIT, a Postgres checkpoint) does not decide.
                var sync = Median(syncTimes);
                var bareMs = Median(bareTimes);
                var parallelMs = Median(bareParallel);
                ratios.Add(sync / bareMs);
                parallelRatios.Add(sync / parallelMs);
                Console.WriteLine($"  {hospital,-10} {total,9} {requests,8} {sync,8:F0} {bareMs,8:F0} {sync / bareMs,6:F2} {parallelMs,9:F0} {sync / parallelMs,6:F2} {Median(storeOnly),13:F0}");
                Console.WriteLine($"      CPU ms, last sync (connect flow included): {syncCpu}");
                Console.WriteLine($"      CPU ms, last bare loop (1 worker): {bareCpu}");
            }
            summary.Add($"source latency {latency} ms: sync / bare loop worst {ratios.Max():F2}, sync / bare×6 worst {parallelRatios.Max():F2} (goal <= 1.25)");
        }
        foreach (var hospital in Hospitals) await SetLatencyAsync(sandbox, hospital, 0);

        Console.WriteLine();
        var storeRatio = await StoreBenchmarkAsync(stack.ConnectionString);
        Console.WriteLine();
        foreach (var line in summary) Console.WriteLine(line);
        Console.WriteLine($"records stored/s / raw COPY = {storeRatio:F2} (goal >= 0.5)");
        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static async Task SetLatencyAsync(HttpClient sandbox, string hospital, int latencyMs)
    {
        using var response = latencyMs == 0
            ? await sandbox.DeleteAsync($"hospitals/{hospital}/settings")
            : await sandbox.PutAsJsonAsync($"hospitals/{hospital}/settings", new { latency_ms = latencyMs });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// The floor under any sync that stores: the connection's records upserted through the record store
    /// in page-sized batches, one writer, without fetching anything. When this alone takes longer than
    /// the bare loop, no design that stores can come within 1.25× of it on this machine.
    /// </summary>
    private static async Task<double> StoreOnlyAsync(NpgsqlDataSource dataSource, string connectionId, string tenant)
    {
        var (rows, _) = await StoredRowsAsync(dataSource, "connection_id", connectionId);
        var store = new NpgsqlRecordStore(dataSource);
        var owner = new RecordOwner(tenant, "bench-patient", connectionId);
        var watch = Stopwatch.StartNew();
        foreach (var chunk in rows.Chunk(200)) await store.UpsertAsync(owner, "bench-run", chunk);
        var elapsed = watch.Elapsed.TotalMilliseconds;
        await using var delete = dataSource.CreateCommand("DELETE FROM pc_records WHERE tenant_id = @t");
        delete.Parameters.AddWithValue("t", tenant);
        await delete.ExecuteNonQueryAsync();
        return elapsed;
    }

    private static async Task<(string Id, int Total)> LargestPatientAsync(HttpClient sandbox, string hospital)
    {
        using var listing = JsonDocument.Parse(await sandbox.GetStringAsync($"hospitals/{hospital}/patients"));
        return listing.RootElement.EnumerateArray()
            .Select(p => (Id: p.GetProperty("id").GetString()!, Total: p.GetProperty("resource_counts").EnumerateObject().Sum(c => c.Value.GetInt32())))
            .OrderByDescending(p => p.Total)
            .First();
    }

    /// <summary>The connect flow through our Api (scripted consent), then the sync; server-side connected_at → completed_at in ms.</summary>
    private static async Task<(double Milliseconds, string ConnectionId)> ServiceSyncAsync(HttpClient api, SyncBenchStack stack, string hospital, string sandboxPatient, string appPatient)
    {
        var sources = JsonNode.Parse(await api.GetStringAsync($"v1/sources?q={hospital}&limit=100"))!["data"]!.AsArray();
        var sourceId = sources.First(s => s!["fhir_base_url"]!.GetValue<string>().TrimEnd('/') == stack.FhirBase(hospital).TrimEnd('/'))!["id"]!.GetValue<string>();
        using var created = await api.PostAsJsonAsync("v1/patient-sessions", new Dictionary<string, string>
        {
            ["patient_id"] = appPatient,
            ["return_url"] = new Uri(stack.Api, "health/live").ToString(),
            ["source_id"] = sourceId,
        });
        var session = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        using var open = await api.GetAsync(session["url"]!.GetValue<string>());
        using var authorize = new HttpRequestMessage(HttpMethod.Get, open.Headers.Location);
        authorize.Headers.Add("X-Sandbox-Consent", $"approve; patient={sandboxPatient}");
        using var consent = await api.SendAsync(authorize);
        using var callback = await api.GetAsync(consent.Headers.Location);
        var back = System.Web.HttpUtility.ParseQueryString(callback.Headers.Location!.Query);
        var connectionId = back["connection_id"] ?? throw new InvalidOperationException($"connect failed: {callback.Headers.Location}");

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (DateTime.UtcNow < deadline)
        {
            var connection = JsonNode.Parse(await api.GetStringAsync($"v1/connections/{connectionId}"))!;
            var sync = connection["sync"]!;
            switch (sync["status"]!.GetValue<string>())
            {
                case "completed":
                    var connected = DateTimeOffset.Parse(connection["connected_at"]!.GetValue<string>());
                    var completed = DateTimeOffset.Parse(sync["completed_at"]!.GetValue<string>());
                    return ((completed - connected).TotalMilliseconds, connectionId);
                case "failed":
                    throw new InvalidOperationException($"sync failed: {sync.ToJsonString()}");
            }
            // The times come from the server; polling faster would only take CPU from the sync.
            await Task.Delay(50);
        }
        throw new TimeoutException($"sync of {connectionId} did not complete");
    }

    /// <summary>A token for the same patient straight from the sandbox (PKCE, public client, scripted consent).</summary>
    private static async Task<string> SandboxTokenAsync(HttpClient sandbox, SyncBenchStack stack, string hospital, string patientId)
    {
        var verifier = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        const string redirect = "http://127.0.0.1:9/callback";
        var query = string.Join('&', new Dictionary<string, string>
        {
            ["response_type"] = "code",
            ["client_id"] = "sandbox-public",
            ["redirect_uri"] = redirect,
            ["scope"] = "launch/patient patient/*.read",
            ["state"] = "bench-sync",
            ["aud"] = stack.FhirBase(hospital),
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
        }.Select(kv => $"{kv.Key}={Uri.EscapeDataString(kv.Value)}"));
        using var authorize = new HttpRequestMessage(HttpMethod.Get, $"hospitals/{hospital}/auth/authorize?{query}");
        authorize.Headers.Add("X-Sandbox-Consent", $"approve; patient={patientId}");
        using var redirected = await sandbox.SendAsync(authorize);
        var code = System.Web.HttpUtility.ParseQueryString(redirected.Headers.Location!.Query)["code"]
                   ?? throw new InvalidOperationException($"no code: {redirected.Headers.Location}");
        using var response = await sandbox.PostAsync($"hospitals/{hospital}/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = redirect,
            ["code_verifier"] = verifier,
            ["client_id"] = "sandbox-public",
        }));
        using var token = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return token.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>The stored records where the column (tenant_id or connection_id) has that value, each with its connection, grouped by connection.</summary>
    private static async Task<(List<RecordRow> Rows, List<string> Connections)> StoredRowsAsync(NpgsqlDataSource dataSource, string column, string value)
    {
        var rows = new List<RecordRow>();
        var connections = new List<string>();
        await using var select = dataSource.CreateCommand(
            $"SELECT resource_type, resource_id, last_updated, resource::text, connection_id FROM pc_records WHERE {column} = @v ORDER BY connection_id");
        select.Parameters.AddWithValue("v", value);
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new RecordRow(reader.GetString(0), reader.GetString(1),
                reader.IsDBNull(2) ? null : new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero), reader.GetString(3)));
            connections.Add(reader.GetString(4));
        }
        return (rows, connections);
    }

    /// <summary>records/s through NpgsqlRecordStore (page-sized upserts) vs one raw binary COPY of the same rows.</summary>
    private static async Task<double> StoreBenchmarkAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        // Each sync's rows keep their own connection, so keys stay unique in the keyed COPY too.
        var (rows, connections) = await StoredRowsAsync(dataSource, "tenant_id", SyncBenchStack.Tenant);
        var megabytes = rows.Sum(r => (long)Encoding.UTF8.GetByteCount(r.Json)) / 1048576.0;
        Console.WriteLine($"records stored/s: {rows.Count} records ({megabytes:F1} MB of JSON) from the syncs above");

        var store = new NpgsqlRecordStore(dataSource);
        const int batch = 200;
        const int writers = 4;
        // Page-sized batches of one connection's rows each, as its sync writes them (with its
        // checkpoint row in the same transaction); several syncs at once. The second pass over a
        // tenant overwrites every row (a re-sync).
        var chunks = rows.Select((row, i) => (Row: row, Connection: connections[i]))
            .GroupBy(x => x.Connection)
            .SelectMany(g => g.Chunk(batch).Select(c => (Connection: g.Key, Rows: c.Select(x => x.Row).ToArray())))
            .ToList();
        var sequence = 0L;
        async Task StoreChunkAsync(string tenant, int index, CancellationToken cancellationToken)
        {
            var owner = new RecordOwner(tenant, "bench-patient", $"{tenant}_{chunks[index].Connection}");
            var checkpoint = new SyncCheckpoint("bench-run", Interlocked.Increment(ref sequence), $$"""{"Chunk":{{index}}}""");
            await store.StoreBatchAsync(owner, "bench-run", chunks[index].Rows, checkpoint, cancellationToken);
        }
        // One worker per sync at a time, as in the service: a connection's batches go one after another.
        var byConnection = Enumerable.Range(0, chunks.Count).GroupBy(i => chunks[i].Connection).Select(g => g.ToArray()).ToList();
        async Task<double> StoreAsync(string tenant, int parallelism)
        {
            var watch = Stopwatch.StartNew();
            await Parallel.ForEachAsync(byConnection, new ParallelOptions { MaxDegreeOfParallelism = parallelism },
                async (indexes, cancellationToken) =>
                {
                    foreach (var index in indexes) await StoreChunkAsync(tenant, index, cancellationToken);
                });
            return rows.Count / watch.Elapsed.TotalSeconds;
        }

        await using (var create = dataSource.CreateCommand("""
                         DROP TABLE IF EXISTS pc_bench_copy; CREATE TABLE pc_bench_copy (LIKE pc_records INCLUDING DEFAULTS);
                         DROP TABLE IF EXISTS pc_bench_copy_keyed; CREATE TABLE pc_bench_copy_keyed (LIKE pc_records INCLUDING ALL);
                         """))
        {
            await create.ExecuteNonQueryAsync();
        }
        async Task<double> CopyAllAsync(string table)
        {
            await using (var truncate = dataSource.CreateCommand($"TRUNCATE {table}")) await truncate.ExecuteNonQueryAsync();
            var watch = Stopwatch.StartNew();
            await using var connection = await dataSource.OpenConnectionAsync();
            await using (var writer = await connection.BeginBinaryImportAsync(
                             $"COPY {table} (tenant_id, connection_id, resource_type, resource_id, patient_id, last_updated, sync_run, resource) FROM STDIN (FORMAT BINARY)"))
            {
                for (var i = 0; i < rows.Count; i++)
                {
                    var row = rows[i];
                    await writer.StartRowAsync();
                    await writer.WriteAsync("bench-copy", NpgsqlDbType.Text);
                    await writer.WriteAsync(connections[i], NpgsqlDbType.Text);
                    await writer.WriteAsync(row.ResourceType, NpgsqlDbType.Text);
                    await writer.WriteAsync(row.ResourceId, NpgsqlDbType.Text);
                    await writer.WriteAsync("bench-patient", NpgsqlDbType.Text);
                    if (row.LastUpdated is { } at) await writer.WriteAsync(at.UtcDateTime, NpgsqlDbType.TimestampTz);
                    else await writer.WriteNullAsync();
                    await writer.WriteAsync("bench-run", NpgsqlDbType.Text);
                    await writer.WriteAsync(row.Json, NpgsqlDbType.Jsonb);
                }
                await writer.CompleteAsync();
            }
            return rows.Count / watch.Elapsed.TotalSeconds;
        }

        // Warm-up, then three interleaved rounds of everything; medians compared, so a Postgres
        // checkpoint or autovacuum in one round does not decide a ratio.
        await StoreAsync("bench-warmup", writers);
        await CopyAllAsync("pc_bench_copy");
        List<double> single = [], inserted = [], updated = [], copy = [], copyKeyed = [];
        for (var round = 0; round < 3; round++)
        {
            single.Add(await StoreAsync($"bench-single-{round}", 1));
            inserted.Add(await StoreAsync($"bench-many-{round}", writers));
            updated.Add(await StoreAsync($"bench-many-{round}", writers));
            copy.Add(await CopyAllAsync("pc_bench_copy"));
            copyKeyed.Add(await CopyAllAsync("pc_bench_copy_keyed"));
        }
        await using (var drop = dataSource.CreateCommand("""
                         DROP TABLE pc_bench_copy; DROP TABLE pc_bench_copy_keyed;
                         DELETE FROM pc_records WHERE tenant_id LIKE 'bench-%';
                         DELETE FROM pc_sync_checkpoints WHERE connection_id LIKE 'bench-%';
                         """))
        {
            await drop.ExecuteNonQueryAsync();
        }

        double singleRate = Median(single), insertedRate = Median(inserted), updatedRate = Median(updated), copyRate = Median(copy), keyedRate = Median(copyKeyed);
        Console.WriteLine($"  (medians of 3 rounds; record store = {batch}-row batches with their checkpoint, as a sync writes them)");
        Console.WriteLine($"  record store, one writer (new rows)                          {singleRate,10:F0} records/s");
        Console.WriteLine($"  record store, {writers} syncs at once (new rows)               {insertedRate,10:F0} records/s");
        Console.WriteLine($"  record store, {writers} syncs at once (re-sync)                 {updatedRate,10:F0} records/s");
        Console.WriteLine($"  raw Npgsql binary COPY, one stream, table without key or index {copyRate,10:F0} records/s");
        Console.WriteLine($"  raw Npgsql binary COPY, one stream, table keyed like pc_records {keyedRate,10:F0} records/s");
        var ratio = Math.Min(insertedRate, updatedRate) / copyRate;
        Console.WriteLine($"  ratio store/COPY without keys (goal >= 0.5): new {insertedRate / copyRate:F2}, re-sync {updatedRate / copyRate:F2}, one writer {singleRate / copyRate:F2}");
        Console.WriteLine($"  ratio store/COPY keyed like pc_records: new {insertedRate / keyedRate:F2}, re-sync {updatedRate / keyedRate:F2}, one writer {singleRate / keyedRate:F2}");
        return ratio;
    }
}

/// <summary>
/// The floor of a sync: the same pages a sync fetches (metadata, Patient read, the patient searches
/// with their next links, referenced resources by _id, attachments), parsed only as far as needed
/// to find the next link, the references and the attachments, and never stored.
/// </summary>
public static class BareLoop
{
    public sealed record Result(double Milliseconds, int Requests);

    private static readonly string[] SearchTypes =
    [
        "AllergyIntolerance", "Condition", "Observation", "DiagnosticReport", "DocumentReference", "MedicationRequest",
        "Immunization", "Procedure", "Encounter", "CarePlan", "CareTeam", "Goal", "Device", "Coverage", "ExplanationOfBenefit",
    ];

    private static readonly string[] Categories =
        ["laboratory", "vital-signs", "social-history", "survey", "exam", "imaging", "procedure", "therapy", "activity", "sdoh"];

    private static readonly HashSet<string> ReferenceTypes = ["Practitioner", "Organization", "Location", "Medication"];

    public static async Task<Result> RunAsync(HttpClient http, string fhirBase, string token, string patientId, int concurrency)
    {
        var requests = 0;
        var watch = Stopwatch.StartNew();
        async Task<byte[]> GetAsync(string url, string accept)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Accept.ParseAdd(accept);
            using var response = await http.SendAsync(request);
            Interlocked.Increment(ref requests);
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"{url}: {(int)response.StatusCode}");
            return await response.Content.ReadAsByteArrayAsync();
        }

        using var metadata = JsonDocument.Parse(await GetAsync($"{fhirBase}/metadata", "application/fhir+json"));
        var served = new Dictionary<string, (bool Include, bool CategoryRequired, bool ById)>();
        foreach (var resource in metadata.RootElement.GetProperty("rest")[0].GetProperty("resource").EnumerateArray())
        {
            var parameters = resource.TryGetProperty("searchParam", out var p) ? p.EnumerateArray().ToList() : [];
            served[resource.GetProperty("type").GetString()!] = (
                resource.TryGetProperty("searchInclude", out var inc) && inc.EnumerateArray().Any(i => i.GetString() == "MedicationRequest:medication"),
                parameters.Any(x => x.GetProperty("name").GetString() == "category" && (x.TryGetProperty("documentation", out var d) && d.GetString()!.Contains("required"))),
                parameters.Any(x => x.GetProperty("name").GetString() == "_id"));
        }

        var work = new Queue<(string Url, string Accept, bool Bundle)>();
        work.Enqueue(($"{fhirBase}/Patient/{patientId}", "application/fhir+json", false));
        foreach (var type in SearchTypes.Where(served.ContainsKey))
        {
            var url = $"{fhirBase}/{type}?patient={patientId}&_count=200";
            if (type == "MedicationRequest" && served[type].Include) url += "&_include=MedicationRequest%3Amedication";
            if (type == "Observation" && served[type].CategoryRequired)
                foreach (var category in Categories) work.Enqueue(($"{url}&category={category}", "application/fhir+json", true));
            else work.Enqueue((url, "application/fhir+json", true));
        }

        var known = new HashSet<string>(StringComparer.Ordinal);
        var pendingReferences = new List<string>();
        var gate = new object();
        while (work.Count > 0 || pendingReferences.Count > 0)
        {
            if (work.Count == 0)
            {
                foreach (var group in pendingReferences.GroupBy(r => r.Split('/')[0]))
                {
                    if (!served.TryGetValue(group.Key, out var support)) continue;
                    foreach (var chunk in group.Select(r => r.Split('/')[1]).Chunk(50))
                    {
                        if (support.ById) work.Enqueue(($"{fhirBase}/{group.Key}?_id={string.Join(',', chunk)}&_count={chunk.Length}", "application/fhir+json", true));
                        else foreach (var id in chunk) work.Enqueue(($"{fhirBase}/{group.Key}/{id}", "application/fhir+json", false));
                    }
                }
                pendingReferences.Clear();
                continue;
            }
            var round = new List<(string, string, bool)>();
            while (work.Count > 0) round.Add(work.Dequeue());
            await Parallel.ForEachAsync(round, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (item, cancellationToken) =>
            {
                var (url, accept, bundle) = item;
                string? next = url;
                while (next is not null)
                {
                    var body = await GetAsync(next, accept);
                    next = null;
                    if (accept != "application/fhir+json") break;
                    using var document = JsonDocument.Parse(body);
                    var root = document.RootElement;
                    var resources = new List<JsonElement>();
                    if (bundle)
                    {
                        foreach (var link in root.GetProperty("link").EnumerateArray())
                            if (link.GetProperty("relation").GetString() == "next") next = link.GetProperty("url").GetString();
                        if (root.TryGetProperty("entry", out var entries))
                            resources.AddRange(entries.EnumerateArray().Where(e => e.TryGetProperty("resource", out _)).Select(e => e.GetProperty("resource")));
                    }
                    else
                    {
                        resources.Add(root);
                    }
                    lock (gate)
                    {
                        foreach (var resource in resources) Scan(resource, fhirBase, known, pendingReferences, work);
                    }
                }
            });
        }
        return new Result(watch.Elapsed.TotalMilliseconds, requests);
    }

    private static void Scan(JsonElement resource, string fhirBase, HashSet<string> known, List<string> pending, Queue<(string, string, bool)> work)
    {
        var type = resource.GetProperty("resourceType").GetString()!;
        if (ReferenceTypes.Contains(type)) known.Add($"{type}/{resource.GetProperty("id").GetString()}");
        if (type == "DocumentReference")
        {
            foreach (var content in resource.GetProperty("content").EnumerateArray())
            {
                var attachment = content.GetProperty("attachment");
                var url = attachment.GetProperty("url").GetString()!;
                if (known.Add(url)) work.Enqueue(($"{fhirBase}/{url}", attachment.TryGetProperty("contentType", out var ct) ? ct.GetString()! : "*/*", false));
            }
        }
        Walk(resource, known, pending);
    }

    private static void Walk(JsonElement element, HashSet<string> known, List<string> pending)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals("reference") && property.Value.ValueKind == JsonValueKind.String)
                {
                    var reference = property.Value.GetString()!;
                    var parts = reference.Split('/');
                    if (parts.Length == 2 && ReferenceTypes.Contains(parts[0]) && known.Add(reference)) pending.Add(reference);
                }
                else
                {
                    Walk(property.Value, known, pending);
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray()) Walk(item, known, pending);
        }
    }
}

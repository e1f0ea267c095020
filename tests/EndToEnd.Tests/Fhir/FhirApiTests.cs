using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Sync;
using Task = System.Threading.Tasks.Task;

namespace PatientConnect.EndToEnd.Tests.Fhir;

/// <summary>
/// The FHIR API over stored records (/v1/patients/{id}/fhir, /$export) against records really synced
/// from the sandbox: read back with Firely's FhirClient, compared with the records API.
/// </summary>
public sealed class FhirApiTests(ServiceProcesses services) : EndToEndTest(services)
{
    private const string FhirJson = "application/fhir+json";
    private const int Exports = 8;

    private async Task<(string Patient, string ConnectionId, SandboxPatient Expected)> SyncedPatientAsync(string hospital, int minimum, int maximum)
    {
        var expected = await SyncSupport.SmallestPatientAsync(Services, hospital, minimum, maximum,
            p => p.ResourceCounts.GetValueOrDefault("Observation") >= 30);
        var patient = NewPatientId("fhir");
        var connectionId = await SyncSupport.ConnectAsync(Flow, patient, hospital, expected.Id);
        Assert.Equal("completed", (await SyncSupport.WaitForSyncAsync(ApiA, connectionId))["sync"].Str("status"));
        return (patient, connectionId, expected);
    }

    private FhirClient FirelyClient(string patient, HttpClient http) =>
        new(new Uri(Services.ApiBase, $"v1/patients/{patient}/fhir").ToString(), http,
            new FhirClientSettings { PreferredFormat = ResourceFormat.Json, VerifyFhirVersion = false });

    private HttpClient ApiKeyClient(string apiKey)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return http;
    }

    [Fact]
    public async Task Firely_client_pages_through_every_stored_observation_and_the_count_equals_the_records_api()
    {
        var (patient, connectionId, expected) = await SyncedPatientAsync("riverside", 60, 900);
        var fromRecordsApi = await SyncSupport.AllRecordsAsync(ApiA, patient, "&type=Observation");
        Assert.Equal(expected.ResourceCounts["Observation"], fromRecordsApi.Count);

        using var http = ApiKeyClient(Services.ApiKeyA);
        var client = FirelyClient(patient, http);

        // A small page size, so the client has to follow many next links.
        var bundle = await client.SearchAsync<Observation>(pageSize: 7);
        Assert.NotNull(bundle);
        Assert.Equal(Bundle.BundleType.Searchset, bundle.Type);
        Assert.Equal(fromRecordsApi.Count, bundle.Total);
        var observations = new List<Observation>();
        var pages = 0;
        while (bundle is not null)
        {
            pages++;
            Assert.True(pages < 1000, "the search never ended");
            Assert.NotNull(bundle.SelfLink);
            foreach (var entry in bundle.Entry)
            {
                var observation = Assert.IsType<Observation>(entry.Resource);
                Assert.EndsWith($"/Observation/{observation.Id}", entry.FullUrl, StringComparison.Ordinal);
                Assert.Equal(Bundle.SearchEntryMode.Match, entry.Search!.Mode);
                observations.Add(observation);
            }
            bundle = await client.ContinueAsync(bundle);
        }

        Assert.Equal((fromRecordsApi.Count + 6) / 7, pages);
        Assert.Equal(fromRecordsApi.Count, observations.Count);
        Assert.Equal(
            fromRecordsApi.Select(r => r.Str("id")!).Order(StringComparer.Ordinal),
            observations.Select(o => o.Id).Order(StringComparer.Ordinal));

        // Read, and the CapabilityStatement names every stored type.
        var first = observations[0];
        var read = await client.ReadAsync<Observation>($"Observation/{first.Id}");
        Assert.Equal(first.Id, read!.Id);
        var capability = await client.CapabilityStatementAsync();
        var served = capability!.Rest.Single().Resource.Select(r => r.Type).ToHashSet(StringComparer.Ordinal);
        foreach (var type in expected.ResourceCounts.Keys) Assert.Contains(type, served);
        Assert.Contains(capability.Rest.Single().Resource.Single(r => r.Type == "Observation").SearchParam, p => p.Name == "_lastUpdated");

        // Every other type parses too: the whole chart through the client, type by type, matches the records API.
        var all = await SyncSupport.AllRecordsAsync(ApiA, patient, $"&connection_id={connectionId}");
        foreach (var group in all.GroupBy(r => r.Str("resourceType")!))
        {
            var count = 0;
            var page = await client.SearchAsync(group.Key, pageSize: 500);
            while (page is not null)
            {
                foreach (var entry in page.Entry)
                {
                    Assert.Equal(group.Key, entry.Resource!.TypeName);
                    count++;
                }
                page = await client.ContinueAsync(page);
            }
            Assert.True(group.Count() == count, $"{group.Key}: records API {group.Count()}, FHIR search {count}");
        }
    }

    [Fact]
    public async Task Search_parameters_filter_and_errors_are_operation_outcomes()
    {
        var (patient, connectionId, expected) = await SyncedPatientAsync("lakeside", 40, 600);
        var observationCount = expected.ResourceCounts["Observation"];
        var fhir = $"v1/patients/{patient}/fhir";

        var page = await FhirGetAsync(ApiA, $"{fhir}/Observation?_count=5");
        Assert.Equal("searchset", page.Str("type"));
        Assert.Equal(observationCount, page["total"]!.GetValue<int>());
        Assert.Equal(5, page["entry"]!.AsArray().Count);
        var links = page["link"]!.AsArray().ToDictionary(l => l.Str("relation")!, l => l.Str("url")!);
        Assert.Equal(new Uri(Services.ApiBase, $"{fhir}/Observation?_count=5").ToString(), links["self"]);
        Assert.Contains("_cursor=", links["next"], StringComparison.Ordinal);

        // _id: one or several ids, ORed.
        var ids = page["entry"]!.AsArray().Select(e => e!["resource"].Str("id")!).ToList();
        var byId = await FhirGetAsync(ApiA, $"{fhir}/Observation?_id={ids[0]},{ids[1]}");
        Assert.Equal(2, byId["total"]!.GetValue<int>());
        Assert.Equal(ids.Take(2).Order(StringComparer.Ordinal), byId["entry"]!.AsArray().Select(e => e!["resource"].Str("id")!).Order(StringComparer.Ordinal));

        // _lastUpdated: every stored Observation has meta.lastUpdated in the past; the prefixes cut where they should.
        Assert.Equal(observationCount, (await FhirGetAsync(ApiA, $"{fhir}/Observation?_lastUpdated=ge1900-01-01&_count=0"))["total"]!.GetValue<int>());
        Assert.Equal(0, (await FhirGetAsync(ApiA, $"{fhir}/Observation?_lastUpdated=gt2999-12-31&_count=0"))["total"]!.GetValue<int>());
        var one = page["entry"]![0]!["resource"]!;
        var updated = DateTimeOffset.Parse(one["meta"].Str("lastUpdated")!);
        var exact = Uri.EscapeDataString(updated.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ"));
        var atInstant = await FhirGetAsync(ApiA, $"{fhir}/Observation?_lastUpdated=eq{exact}&_count=1000");
        Assert.Contains(atInstant["entry"]!.AsArray(), e => e!["resource"].Str("id") == one.Str("id"));
        Assert.All(atInstant["entry"]!.AsArray(), e => Assert.Equal(updated, DateTimeOffset.Parse(e!["resource"]!["meta"].Str("lastUpdated")!)));
        var before = await FhirGetAsync(ApiA, $"{fhir}/Observation?_lastUpdated=lt{exact}&_count=0");
        var notBefore = await FhirGetAsync(ApiA, $"{fhir}/Observation?_lastUpdated=ge{exact}&_count=0");
        Assert.Equal(observationCount, before["total"]!.GetValue<int>() + notBefore["total"]!.GetValue<int>());

        // connection: this connection holds them all, another (well-formed) one none.
        Assert.Equal(observationCount, (await FhirGetAsync(ApiA, $"{fhir}/Observation?connection={connectionId}&_count=0"))["total"]!.GetValue<int>());
        Assert.Equal(0, (await FhirGetAsync(ApiA, $"{fhir}/Observation?connection=conn_{new string('b', 32)}&_count=0"))["total"]!.GetValue<int>());

        // Unknown parameters: ignored and reported (lenient, as FHIR search says), refused under Prefer: handling=strict.
        var lenient = await FhirGetAsync(ApiA, $"{fhir}/Observation?code=1234-5&_count=1");
        Assert.Equal(observationCount, lenient["total"]!.GetValue<int>());
        var outcome = lenient["entry"]!.AsArray().Single(e => e!["search"].Str("mode") == "outcome");
        Assert.Equal("OperationOutcome", outcome!["resource"].Str("resourceType"));
        Assert.DoesNotContain("code=", lenient["link"]!.AsArray().Single(l => l.Str("relation") == "self").Str("url"), StringComparison.Ordinal);
        using (var strict = new HttpRequestMessage(HttpMethod.Get, $"{fhir}/Observation?code=1234-5"))
        {
            strict.Headers.Add("Prefer", "handling=strict");
            using var response = await ApiA.SendAsync(strict, Cancel);
            await AssertOutcomeAsync(response, HttpStatusCode.BadRequest, "not-supported", "code");
        }

        // Errors are OperationOutcome with the parameter in expression.
        using (var response = await ApiA.GetAsync($"{fhir}/Observation?_lastUpdated=yesterday", Cancel))
            await AssertOutcomeAsync(response, HttpStatusCode.BadRequest, "invalid", "_lastUpdated");
        using (var response = await ApiA.GetAsync($"{fhir}/Observation?_count=-1", Cancel))
            await AssertOutcomeAsync(response, HttpStatusCode.BadRequest, "invalid", "_count");
        using (var response = await ApiA.GetAsync($"{fhir}/Observation?_cursor=not-a-cursor", Cancel))
            await AssertOutcomeAsync(response, HttpStatusCode.BadRequest, "invalid", "_cursor");
        using (var response = await ApiA.GetAsync($"{fhir}/Observation?connection=nope", Cancel))
            await AssertOutcomeAsync(response, HttpStatusCode.BadRequest, "invalid", "connection");
        using (var response = await ApiA.GetAsync($"{fhir}/NotAType", Cancel))
            await AssertOutcomeAsync(response, HttpStatusCode.NotFound, "not-supported", null);
        using (var response = await ApiA.GetAsync($"{fhir}/Observation/no-such-id", Cancel))
            await AssertOutcomeAsync(response, HttpStatusCode.NotFound, "not-found", null);
        using (var response = await ApiA.GetAsync($"v1/patients/{patient}/$export?_type=Observation,Nope", Cancel))
            await AssertOutcomeAsync(response, HttpStatusCode.BadRequest, "invalid", "_type");

        // The read answers the stored resource as FHIR JSON.
        using (var response = await ApiA.GetAsync($"{fhir}/Observation/{ids[0]}", Cancel))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(FhirJson, response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(ids[0], JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel)).Str("id"));
        }

        // Another tenant: nothing of this patient, and its read is the same 404 as a missing one.
        // Another tenant has no such patient: every FHIR route is the same 404 OperationOutcome as a missing one.
        foreach (var path in new[] { $"{fhir}/Observation", $"{fhir}/Observation/{ids[0]}", $"{fhir}/metadata", $"v1/patients/{patient}/$export" })
        {
            using var response = await ApiB.GetAsync(path, Cancel);
            await AssertOutcomeAsync(response, HttpStatusCode.NotFound, "not-found", null);
        }
    }

    [Fact]
    public async Task Export_streams_exactly_the_stored_records_of_the_largest_patient_with_the_api_memory_flat()
    {
        var expected = (await SyncSupport.SandboxPatientsAsync(Services, "riverside")).OrderByDescending(p => p.Total).First();
        Assert.True(expected.Total >= 2000, $"the largest sandbox patient holds only {expected.Total} resources");
        var patient = NewPatientId("export");
        var connectionId = await SyncSupport.ConnectAsync(Flow, patient, "riverside", expected.Id);
        Assert.Equal("completed", (await SyncSupport.WaitForSyncAsync(ApiA, connectionId, timeout: TimeSpan.FromSeconds(300)))["sync"].Str("status"));

        // What the records API holds: the exact text of each record, hashed.
        var stored = await StoredRecordHashesAsync(patient);
        Assert.True(stored.Count >= expected.Total, $"{stored.Count} stored, sandbox holds {expected.Total}");

        // Eight exports at once, sampling the Api's resident memory while they stream: holding the
        // bodies (as UTF-16 strings, at least twice their UTF-8 size) would grow it by more than the
        // bytes streamed; streaming page by page grows it by a few pages and the GC's allocation budget.
        var apiPid = Services.Api.Id;
        var baseline = ResidentBytes(apiPid);
        var peak = baseline;
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ResidentBytes(apiPid));
                try { await Task.Delay(10, sampling.Token); } catch (OperationCanceledException) { }
            }
        }, Cancel);
        var exports = await Task.WhenAll(Enumerable.Range(0, Exports).Select(_ => ExportAsync(patient)));
        await sampling.CancelAsync();
        await sampler;
        peak = Math.Max(peak, ResidentBytes(apiPid));

        foreach (var (exported, _) in exports)
        {
            // Exactly the stored records, byte for byte: the same multiset of hashes.
            Assert.Equal(stored.Count, exported.Count);
            Assert.Equal(stored.Order(StringComparer.Ordinal), exported.Select(e => e.Hash).Order(StringComparer.Ordinal));
            // One type after another: each type is one contiguous run.
            var runs = exported.Select(e => e.Type).Aggregate(new List<string>(), (list, type) => { if (list.Count == 0 || list[^1] != type) list.Add(type); return list; });
            Assert.Equal(runs.Count, runs.Distinct(StringComparer.Ordinal).Count());
        }

        var streamed = exports.Sum(e => e.Bytes);
        var growth = peak - baseline;
        Assert.True(growth < streamed,
            $"Api RSS grew {growth / 1024} KiB (from {baseline / 1048576} MiB) while streaming {Exports} x {exports[0].Bytes / 1024} KiB ({stored.Count} resources each)");
    }

    private async Task<(List<(string Type, string Hash)> Lines, long Bytes)> ExportAsync(string patient)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/patients/{patient}/$export");
        using var response = await ApiA.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/fhir+ndjson", response.Content.Headers.ContentType?.MediaType);
        // Streamed, not buffered: no length known up front.
        Assert.Null(response.Content.Headers.ContentLength);
        Assert.True(response.Headers.TransferEncodingChunked);

        var lines = new List<(string Type, string Hash)>();
        long bytes = 0;
        await using var body = await response.Content.ReadAsStreamAsync(Cancel);
        using var reader = new StreamReader(body, Encoding.UTF8);
        while (await reader.ReadLineAsync(Cancel) is { } line)
        {
            bytes += Encoding.UTF8.GetByteCount(line) + 1;
            using var document = JsonDocument.Parse(line);
            lines.Add((document.RootElement.GetProperty("resourceType").GetString()!, Hash(line)));
        }
        return (lines, bytes);
    }

    [Fact]
    public async Task Fhir_routes_are_in_the_openapi_document()
    {
        var document = await Json.GetAsync(Anonymous, "openapi/v1.json");
        var paths = document["paths"]!.AsObject();
        foreach (var path in new[] { "/v1/patients/{patient_id}/fhir/metadata", "/v1/patients/{patient_id}/fhir/{type}",
                     "/v1/patients/{patient_id}/fhir/{type}/{id}", "/v1/patients/{patient_id}/$export", "/v1/patients/{patient_id}/events" })
        {
            Assert.True(paths[path]?["get"] is not null, $"{path} missing: {string.Join(", ", paths.Select(p => p.Key))}");
        }
        var search = paths["/v1/patients/{patient_id}/fhir/{type}"]!["get"]!["responses"]!;
        Assert.Equal("searchset", search["200"]!["content"]!["application/fhir+json"]!["example"].Str("type"));
        Assert.Equal("OperationOutcome", search["400"]!["content"]!["application/fhir+json"]!["example"].Str("resourceType"));
        var events = paths["/v1/patients/{patient_id}/events"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["example"]!;
        Assert.Equal("connection.refresh_failed", events["data"]![0].Str("type"));
    }

    private async Task<List<string>> StoredRecordHashesAsync(string patient)
    {
        var hashes = new List<string>();
        string? cursor = null;
        do
        {
            var url = $"v1/patients/{patient}/records?limit=100" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            using var response = await ApiA.GetAsync(url, Cancel);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
            foreach (var record in document.RootElement.GetProperty("data").EnumerateArray()) hashes.Add(Hash(record.GetRawText()));
            cursor = document.RootElement.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);
        return hashes;
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        throw new InvalidOperationException($"no VmRSS for {pid}");
    }

    private static async Task<JsonObject> FhirGetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path, Cancel);
        var text = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {text}");
        Assert.Equal(FhirJson, response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task AssertOutcomeAsync(HttpResponseMessage response, HttpStatusCode status, string code, string? expression)
    {
        var text = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(response.StatusCode == status, $"{response.RequestMessage?.RequestUri}: expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(FhirJson, response.Content.Headers.ContentType?.MediaType);
        var outcome = JsonNode.Parse(text)!;
        Assert.Equal("OperationOutcome", outcome.Str("resourceType"));
        var issue = outcome["issue"]![0]!;
        Assert.Equal("error", issue.Str("severity"));
        Assert.Equal(code, issue.Str("code"));
        if (expression is not null) Assert.Equal(expression, issue["expression"]![0]!.GetValue<string>());
    }
}

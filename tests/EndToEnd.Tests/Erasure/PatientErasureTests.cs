using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Sync;
using PatientConnect.EndToEnd.Tests.Webhooks;

namespace PatientConnect.EndToEnd.Tests.Erasure;

/// <summary>Its own service and sandbox: the tests count a hospital's live tokens.</summary>
public sealed class ErasureServices : ServiceProcesses;

/// <summary>Another of its own for the test that kills the silo (the others must not meet a restarting cluster).</summary>
public sealed class ErasureRestartServices : ServiceProcesses;

[CollectionDefinition(Name)]
public sealed class ErasureCollection : ICollectionFixture<ErasureServices>
{
    public const string Name = "erasure-services";
}

/// <summary>A right-to-delete job whose silo is SIGKILLed midway is resumed by its reminder and completes.</summary>
public sealed class PatientErasureRestartTests(ErasureRestartServices services) : EndToEndTest(services), IClassFixture<ErasureRestartServices>
{
    [Fact]
    public async Task A_job_whose_silo_is_killed_midway_is_resumed_by_its_reminder_and_completes()
    {
        var patient = NewPatientId("resume");
        var summit = await SyncSupport.SmallestPatientAsync(Services, "summit", 20, 2000);
        var lakeside = await SyncSupport.SmallestPatientAsync(Services, "lakeside", 20, 2000);
        var connections = new[]
        {
            await SyncSupport.ConnectAsync(Flow, patient, "summit", summit.Id),
            await SyncSupport.ConnectAsync(Flow, patient, "lakeside", lakeside.Id),
        };
        foreach (var id in connections) await SyncSupport.WaitForSyncAsync(ApiA, id);
        var sessions = await ErasureChecks.AllSessionIdsAsync(ApiA, patient);
        var records = (await SyncSupport.AllRecordsAsync(ApiA, patient)).Count;

        // Slow sources: each revocation call waits 3 s, so the job is still revoking when its silo dies.
        foreach (var hospital in new[] { "summit", "lakeside" }) await SyncSupport.SetSandboxAsync(Services, hospital, new { revocation_latency_ms = 3000 });
        string jobId;
        try
        {
            using var delete = await ApiA.DeleteAsync($"v1/patients/{patient}", Cancel);
            jobId = (await Json.ReadAsync(delete, HttpStatusCode.Accepted)).Str("id")!;
            await Task.Delay(TimeSpan.FromSeconds(1.5), Cancel);
            Assert.Equal("running", (await Json.GetAsync(ApiA, $"v1/patient-deletions/{jobId}")).Str("status"));
            Services.KillSilo(0);
        }
        finally
        {
            foreach (var hospital in new[] { "summit", "lakeside" }) await SyncSupport.SetSandboxAsync(Services, hospital, null);
        }
        Services.StartSilo(0);
        await Services.WaitForActiveSilosAsync(1);
        await Services.WaitForReadyAsync();

        // The reminder ticks a minute after the job started; the resumed run finishes it.
        var job = await ErasureChecks.WaitForJobAsync(ApiA, jobId, TimeSpan.FromSeconds(180));
        // A connection erased in the very moment of the kill (its state gone, the job's count not yet written)
        // is found already gone on resume: one or two, never more; the records are deleted once, after the revocations.
        Assert.InRange(job["counts"]!["connections"]!.GetValue<int>(), 1, 2);
        Assert.Equal(records, job["counts"]!["records"]!.GetValue<long>());
        Assert.Equal((0, 0), await ErasureChecks.SandboxTokensAsync(Services, "summit"));
        Assert.Equal((0, 0), await ErasureChecks.SandboxTokensAsync(Services, "lakeside"));
        Assert.Empty(await ErasureChecks.RowsNamingAsync(Services, [patient, .. sessions, .. connections]));
        using (var response = await ApiA.GetAsync($"v1/patients/{patient}/connections", Cancel)) Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

}

/// <summary>
/// Right to delete: DELETE /v1/patients/{id} revokes at the source, leaves no row of the patient in any
/// table, turns every route of the patient into a 404 and leaves another patient alone.
/// </summary>
[Collection(ErasureCollection.Name)]
public sealed class PatientErasureTests(ErasureServices services) : EndToEndTest(services)
{
    [Fact]
    public async Task Delete_revokes_at_the_sources_erases_every_row_of_the_patient_and_leaves_the_other_patient_untouched()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var created = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url = receiver.Url }, Cancel);
        var endpoint = await Json.ReadAsync(created, HttpStatusCode.Created);
        receiver.Secret = endpoint.Str("secret");

        // The patient: connected to two sources (synced), a session still open, an idempotent session POST.
        var patient = NewPatientId("erase");
        var summit = await SyncSupport.SmallestPatientAsync(Services, "summit", 20, 2000);
        var lakeside = await SyncSupport.SmallestPatientAsync(Services, "lakeside", 20, 2000);
        var connections = new[]
        {
            await SyncSupport.ConnectAsync(Flow, patient, "summit", summit.Id),
            await SyncSupport.ConnectAsync(Flow, patient, "lakeside", lakeside.Id),
        };
        foreach (var id in connections) Assert.Equal("completed", (await SyncSupport.WaitForSyncAsync(ApiA, id))["sync"].Str("status"));
        using (var idempotent = await Flow.PostSessionAsync(new { patient_id = patient, return_url = Flow.ReturnUrl }, "erase-" + Guid.NewGuid()))
            await Json.ReadAsync(idempotent, HttpStatusCode.Created);
        var sessions = await ErasureChecks.AllSessionIdsAsync(ApiA, patient);
        Assert.Equal(3, sessions.Count);
        // The sandbox's resources plus what the sync followed by reference.
        var records = await SyncSupport.AllRecordsAsync(ApiA, patient);
        Assert.True(records.Count >= summit.Total + lakeside.Total, $"{records.Count} records");
        var historyBefore = (await Json.GetAsync(ApiA, $"v1/patients/{patient}/events?limit=100"))["data"]!.AsArray().Count;
        Assert.True(historyBefore > 0);
        Assert.True((await ErasureChecks.SandboxTokensAsync(Services, "summit")).Refresh > 0);
        Assert.True((await ErasureChecks.SandboxTokensAsync(Services, "lakeside")).Refresh > 0);

        // Another patient of the same tenant, at a third source.
        var other = NewPatientId("keep");
        var riverside = await SyncSupport.SmallestPatientAsync(Services, "riverside", 20, 2000);
        var otherConnection = await SyncSupport.ConnectAsync(Flow, other, "riverside", riverside.Id);
        await SyncSupport.WaitForSyncAsync(ApiA, otherConnection);
        var otherBefore = await SnapshotAsync(other);
        var riversideTokens = await ErasureChecks.SandboxTokensAsync(Services, "riverside");
        Assert.True(riversideTokens.Refresh > 0);
        await receiver.WaitUntilAsync(r => r.For(otherConnection).Any(e => e.Str("type") == "records.sync.completed")
                && connections.All(c => r.For(c).Any(e => e.Str("type") == "records.sync.completed")),
            TimeSpan.FromSeconds(60), "the sync events");

        using var delete = await ApiA.DeleteAsync($"v1/patients/{patient}", Cancel);
        var accepted = await Json.ReadAsync(delete, HttpStatusCode.Accepted);
        var jobId = accepted.Str("id")!;
        Assert.StartsWith("del_", jobId);
        Assert.Equal($"/v1/patient-deletions/{jobId}", delete.Headers.Location?.ToString());
        Assert.DoesNotContain(patient, accepted.ToJsonString(), StringComparison.Ordinal);
        var job = await ErasureChecks.WaitForJobAsync(ApiA, jobId, TimeSpan.FromSeconds(90));
        var counts = job["counts"]!;
        Assert.Equal(2, counts["connections"]!.GetValue<int>());
        Assert.Equal(2, counts["connections_revoked"]!.GetValue<int>());
        Assert.Equal(3, counts["sessions"]!.GetValue<int>());
        Assert.Equal(records.Count, counts["records"]!.GetValue<long>());
        Assert.True(counts["events"]!.GetValue<long>() >= historyBefore, job.ToJsonString());
        Assert.Equal(1, counts["idempotency_records"]!.GetValue<long>());
        Assert.NotNull(job.Str("completed_at"));
        using (var foreign = await ApiB.GetAsync($"v1/patient-deletions/{jobId}", Cancel)) Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);

        // The sources revoked the grants: no live token left at summit or lakeside; riverside's are the other patient's.
        Assert.Equal((0, 0), await ErasureChecks.SandboxTokensAsync(Services, "summit"));
        Assert.Equal((0, 0), await ErasureChecks.SandboxTokensAsync(Services, "lakeside"));
        Assert.Equal(riversideTokens, await ErasureChecks.SandboxTokensAsync(Services, "riverside"));

        // Every route of the patient is a 404.
        foreach (var path in PatientRoutes(patient, records[0]).Concat(sessions.Select(s => $"v1/patient-sessions/{s}"))
                     .Concat(connections.Select(c => $"v1/connections/{c}")))
        {
            using var response = await ApiA.GetAsync(path, Cancel);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"GET {path}: {(int)response.StatusCode}");
        }
        foreach (var c in connections)
        {
            using (var r = await ApiA.DeleteAsync($"v1/connections/{c}", Cancel)) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            using (var r = await ApiA.PostAsync($"v1/connections/{c}/sync", null, Cancel)) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }
        using (var again = await ApiA.DeleteAsync($"v1/patients/{patient}", Cancel)) Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);

        // No table holds a row naming the patient, its sessions or its connections.
        Assert.Empty(await ErasureChecks.RowsNamingAsync(Services, [patient, .. sessions, .. connections]));

        // The other patient is untouched.
        Assert.Equal(otherBefore, await SnapshotAsync(other));

        // The webhooks: patient.deleted with the job object (and no patient id); no disconnect of the erased connections.
        await receiver.WaitUntilAsync(r => r.For(jobId).Count == 1, TimeSpan.FromSeconds(30), "patient.deleted");
        var deleted = receiver.For(jobId).Single();
        Assert.Equal("patient.deleted", deleted.Str("type"));
        Assert.Equal("completed", deleted["data"].Str("status"));
        Assert.True(JsonNode.DeepEquals(job["counts"], deleted["data"]!["counts"]));
        Assert.DoesNotContain(patient, deleted.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(receiver.Accepted, e => e.Str("type") == "connection.disconnected");
    }

    [Fact]
    public async Task Patient_routes_of_a_patient_without_sessions_are_404_and_a_malformed_id_is_400()
    {
        var unknown = NewPatientId("never");
        foreach (var path in PatientRoutes(unknown, null))
        {
            using var response = await ApiA.GetAsync(path, Cancel);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"GET {path}: {(int)response.StatusCode}");
        }
        using (var response = await ApiA.DeleteAsync($"v1/patients/{unknown}", Cancel)) Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using (var response = await ApiA.DeleteAsync("v1/patients/bad%20id", Cancel))
            Assert.Equal("patient_id", (await Json.ReadAsync(response, HttpStatusCode.BadRequest)).Str("field"));
        using (var response = await ApiA.GetAsync($"v1/patient-deletions/del_{new string('a', 32)}", Cancel)) Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        var document = await Json.GetAsync(Anonymous, "openapi/v1.json");
        var paths = document["paths"]!.AsObject();
        Assert.Equal("running", paths["/v1/patients/{patient_id}"]!["delete"]!["responses"]!["202"]!["content"]!["application/json"]!["example"].Str("status"));
        Assert.NotNull(paths["/v1/patient-deletions/{id}"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["example"]!["counts"]);
    }

    private static IEnumerable<string> PatientRoutes(string patient, JsonObject? record)
    {
        yield return $"v1/patients/{patient}/patient-sessions";
        yield return $"v1/patients/{patient}/connections";
        yield return $"v1/patients/{patient}/records";
        yield return $"v1/patients/{patient}/events";
        yield return $"v1/patients/{patient}/fhir/metadata";
        yield return $"v1/patients/{patient}/fhir/Observation";
        yield return $"v1/patients/{patient}/$export";
        if (record is not null)
        {
            yield return $"v1/patients/{patient}/records/{record.Str("resourceType")}/{record.Str("id")}";
            yield return $"v1/patients/{patient}/fhir/{record.Str("resourceType")}/{record.Str("id")}";
        }
    }

    /// <summary>What the other patient's routes answer, to compare before and after.</summary>
    private async Task<string> SnapshotAsync(string patient)
    {
        var sessions = (await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions"))["data"]!.ToJsonString();
        var connections = (await Json.GetAsync(ApiA, $"v1/patients/{patient}/connections"))["data"]!.ToJsonString();
        var records = (await SyncSupport.AllRecordsAsync(ApiA, patient)).Count;
        var events = (await Json.GetAsync(ApiA, $"v1/patients/{patient}/events?limit=100"))["data"]!.ToJsonString();
        return $"{sessions}\n{connections}\n{records}\n{events}";
    }

}

/// <summary>What the erasure tests check: the job, the sandbox's live tokens, every table's rows.</summary>
internal static class ErasureChecks
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static async Task<List<string>> AllSessionIdsAsync(HttpClient api, string patient) =>
        (await Json.GetAsync(api, $"v1/patients/{patient}/patient-sessions?limit=100"))["data"]!.AsArray().Select(s => s.Str("id")!).ToList();

    public static async Task<JsonObject> WaitForJobAsync(HttpClient api, string jobId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await api.GetAsync($"v1/patient-deletions/{jobId}", Cancel);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    last = JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel))!.AsObject();
                    if (last.Str("status") == "completed") return last;
                }
            }
            catch (HttpRequestException)
            {
                // The Api is reconnecting to a restarted silo.
            }
            await Task.Delay(500, Cancel);
        }
        throw new TimeoutException($"erasure {jobId} did not complete within {timeout}: {last?.ToJsonString()}");
    }

    public static async Task<(int Access, int Refresh)> SandboxTokensAsync(ServiceProcesses services, string hospital)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var tokens = JsonNode.Parse(await http.GetStringAsync(new Uri(services.SandboxBase, $"hospitals/{hospital}/tokens"), Cancel))!;
        return (tokens["access_tokens"]!.GetValue<int>(), tokens["refresh_tokens"]!.GetValue<int>());
    }

    /// <summary>
    /// Every row of every table in the database, as text (bytea such as Orleans' JSON state decoded), searched
    /// for each needle: "table: needle" for each hit.
    /// </summary>
    public static async Task<List<string>> RowsNamingAsync(ServiceProcesses services, IReadOnlyList<string> needles)
    {
        await using var connection = new NpgsqlConnection(services.ConnectionString);
        await connection.OpenAsync(Cancel);
        var columns = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("""
            SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(Cancel))
        {
            while (await reader.ReadAsync(Cancel))
            {
                var table = reader.GetString(0);
                var column = $"\"{reader.GetString(1)}\"";
                if (!columns.TryGetValue(table, out var list)) columns[table] = list = [];
                list.Add(reader.GetString(2) == "bytea" ? $"encode({column}, 'escape')" : $"{column}::text");
            }
        }
        Assert.Contains("orleansstorage", columns.Keys);
        Assert.Contains("orleansreminderstable", columns.Keys);
        Assert.Contains("pc_records", columns.Keys);
        var hits = new List<string>();
        foreach (var (table, list) in columns)
        {
            foreach (var needle in needles)
            {
                await using var command = new NpgsqlCommand(
                    $"SELECT count(*) FROM \"{table}\" WHERE position(@needle in concat_ws('|', {string.Join(", ", list)})) > 0", connection);
                command.Parameters.AddWithValue("needle", needle);
                if ((long)(await command.ExecuteScalarAsync(Cancel))! > 0) hits.Add($"{table}: {needle}");
            }
        }
        return hits;
    }
}

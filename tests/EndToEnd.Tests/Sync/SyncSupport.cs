using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Sync;

/// <summary>A sandbox patient as the test hooks list it: id and what a full pull of its compartment returns per type.</summary>
public sealed record SandboxPatient(string Id, string Name, IReadOnlyDictionary<string, int> ResourceCounts)
{
    public int Total => ResourceCounts.Values.Sum();
}

/// <summary>Steps the sync tests share: pick sandbox patients, connect them, wait for their sync, read their records.</summary>
public static class SyncSupport
{
    public static readonly TimeSpan SyncTimeout = TimeSpan.FromSeconds(120);

    /// <summary>The smallest sandbox patient of the hospital holding between minimum and maximum resources (and fitting, when asked).</summary>
    public static async Task<SandboxPatient> SmallestPatientAsync(ServiceProcesses services, string hospital, int minimum, int maximum,
        Func<SandboxPatient, bool>? fits = null)
    {
        var patients = await SandboxPatientsAsync(services, hospital);
        return patients.Where(p => p.Total >= minimum && p.Total <= maximum && (fits is null || fits(p))).OrderBy(p => p.Total).First();
    }

    public static async Task<IReadOnlyList<SandboxPatient>> SandboxPatientsAsync(ServiceProcesses services, string hospital)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var list = JsonNode.Parse(await http.GetStringAsync(new Uri(services.SandboxBase, $"hospitals/{hospital}/patients")))!.AsArray();
        return list.OfType<JsonNode>().Select(p => new SandboxPatient(
                p.Str("id")!,
                p.Str("name")!,
                p["resource_counts"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>(), StringComparer.Ordinal)))
            .ToList();
    }

    /// <summary>PUT /hospitals/{id}/settings (partial, snake_case); DELETE restores the defaults.</summary>
    public static async Task SetSandboxAsync(ServiceProcesses services, string hospital, object? settings)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var uri = new Uri(services.SandboxBase, $"hospitals/{hospital}/settings");
        using var response = settings is null ? await http.DeleteAsync(uri) : await http.PutAsJsonAsync(uri, settings);
        Assert.True(response.IsSuccessStatusCode, $"sandbox settings: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>GET /hospitals/{id}/stats: refresh_token grants the sandbox's token endpoint has received so far.</summary>
    public static async Task<long> SandboxRefreshRequestsAsync(ServiceProcesses services, string hospital)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var stats = JsonNode.Parse(await http.GetStringAsync(new Uri(services.SandboxBase, $"hospitals/{hospital}/stats")))!;
        return stats["refresh_requests"]!.GetValue<long>();
    }

    /// <summary>The connection's sync.notes (searches skipped, links not followed).</summary>
    public static IReadOnlyList<string> SyncNotes(JsonObject connection) =>
        connection["sync"]?["notes"] is JsonArray notes ? notes.Select(n => n!.GetValue<string>()).ToList() : [];

    /// <summary>Connects the app's patient to one sandbox patient of a hospital; the new connection's id.</summary>
    public static async Task<string> ConnectAsync(SessionFlow flow, string appPatientId, string hospital, string sandboxPatientId)
    {
        var (session, query) = await flow.ConnectAsync(appPatientId, hospital, $"approve; patient={sandboxPatientId}");
        Assert.Equal("true", query["success"]);
        return session.Str("connection_id")!;
    }

    /// <summary>Polls the connection until its sync has ended (completed or failed) after <paramref name="startedAfter"/>.</summary>
    public static async Task<JsonObject> WaitForSyncAsync(HttpClient api, string connectionId, DateTimeOffset? startedAfter = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? SyncTimeout);
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            using (var response = await api.GetAsync($"v1/connections/{connectionId}"))
            {
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    last = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
                    var sync = last["sync"]!;
                    var status = sync.Str("status");
                    var started = sync.Str("started_at") is { } s ? DateTimeOffset.Parse(s) : (DateTimeOffset?)null;
                    if (status is "completed" or "failed" && (startedAfter is null || started > startedAfter)) return last;
                }
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"sync of {connectionId} did not end within {timeout ?? SyncTimeout}: {last?.ToJsonString()}");
    }

    /// <summary>Every record the API lists for the query, following next_cursor to the end.</summary>
    public static async Task<List<JsonObject>> AllRecordsAsync(HttpClient api, string patientId, string query = "", int limit = 100)
    {
        var records = new List<JsonObject>();
        string? cursor = null;
        for (var page = 0; page < 10_000; page++)
        {
            var url = $"v1/patients/{patientId}/records?limit={limit}{query}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var body = await Json.GetAsync(api, url);
            records.AddRange(body["data"]!.AsArray().Select(r => r!.AsObject()));
            cursor = body.Str("next_cursor");
            if (cursor is null) return records;
        }
        throw new InvalidOperationException("the records list never ended");
    }

    public static Dictionary<string, int> CountByType(IEnumerable<JsonObject> records) =>
        records.GroupBy(r => r.Str("resourceType")!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>
    /// The records hold exactly what the sandbox holds for the patient: every counted type with the
    /// sandbox's count, each (type, id) once, and beyond those only the referenced and attached types.
    /// </summary>
    public static void AssertSameAsSandbox(SandboxPatient expected, IReadOnlyList<JsonObject> records)
    {
        var keys = records.Select(r => $"{r.Str("resourceType")}/{r.Str("id")}").ToList();
        Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
        var actual = CountByType(records);
        foreach (var (type, count) in expected.ResourceCounts)
        {
            Assert.True(actual.GetValueOrDefault(type) == count, $"{type}: expected {count}, stored {actual.GetValueOrDefault(type)}; all: {string.Join(", ", actual.Select(kv => $"{kv.Key}={kv.Value}"))}");
        }
        var extra = actual.Keys.Except(expected.ResourceCounts.Keys).ToList();
        Assert.All(extra, type => Assert.Contains(type, new[] { "Binary", "Medication", "Practitioner", "Organization", "Location" }));
    }

    /// <summary>
    /// The sync's progress as stored: while a run is going, the checkpoint written with its last stored
    /// page (pc_sync_checkpoints); otherwise the grain state. Null when neither is stored.
    /// </summary>
    public static async Task<JsonObject?> SyncCheckpointAsync(ServiceProcesses services, string connectionId)
    {
        await using var connection = new NpgsqlConnection(services.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select convert_from(payloadbinary, 'UTF8') from orleansstorage where graintypestring like '%sync%' and grainidextensionstring = @id and serviceid = @service",
            connection);
        command.Parameters.AddWithValue("id", connectionId);
        command.Parameters.AddWithValue("service", services.ClusterId);
        var text = await command.ExecuteScalarAsync() as string;
        var grainState = text is null ? null : JsonNode.Parse(text)?.AsObject();

        await using var checkpointCommand = new NpgsqlCommand("select checkpoint::text from pc_sync_checkpoints where connection_id = @id", connection);
        checkpointCommand.Parameters.AddWithValue("id", connectionId);
        var checkpointText = await checkpointCommand.ExecuteScalarAsync() as string;
        var checkpoint = checkpointText is null ? null : JsonNode.Parse(checkpointText)?.AsObject();
        var running = grainState is not null && grainState["CompletedAt"] is null;
        return checkpoint is not null && running && checkpoint.Str("RunId") == grainState!.Str("RunId") ? checkpoint : grainState;
    }
}

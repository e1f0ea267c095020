using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Sync;

/// <summary>
/// A service of its own (its own sandbox, database and silo): these tests make the sandbox refuse
/// searches and send next links elsewhere, which the shared service's other tests must never see.
/// </summary>
public sealed class SyncRefusalServices : ServiceProcesses
{
    protected override void AddSiloEnvironment(Dictionary<string, string> env)
    {
        // A refusal here is never retried; few retries keep an unexpected outage from hiding as a long wait.
        env["PatientConnect__Sync__MaxRetries"] = "3";
        env["PatientConnect__Sync__MaxRetryDelay"] = "00:00:02";
    }
}

/// <summary>
/// The sync's refusal paths end to end: a 400/403 skips one search and the rest completes; a 401
/// refreshes once and then stops the sync; a next link to another origin is never followed.
/// </summary>
public sealed class SyncRefusalTests(SyncRefusalServices services) : EndToEndTest(services), IClassFixture<SyncRefusalServices>
{
    private Task<SandboxPatient> PatientAsync(string hospital, int minimum, int maximum, Func<SandboxPatient, bool>? fits = null) =>
        SyncSupport.SmallestPatientAsync(Services, hospital, minimum, maximum, fits);

    private static object FailSearches(params (string Type, int Status)[] failures) =>
        new { fail_searches = failures.ToDictionary(f => f.Type, f => f.Status) };

    private async Task<JsonObject> ConnectionAsync(string connectionId) => await Json.GetAsync(ApiA, $"v1/connections/{connectionId}");

    [Fact]
    public async Task Refused_searches_are_skipped_and_noted_and_the_sync_completes_with_the_rest()
    {
        var expected = await PatientAsync("lakeside", 80, 400,
            p => p.ResourceCounts.GetValueOrDefault("Procedure") > 0 && p.ResourceCounts.GetValueOrDefault("Encounter") > 0);
        await SyncSupport.SetSandboxAsync(Services, "lakeside", FailSearches(("Procedure", 403), ("Encounter", 400)));
        var patient = NewPatientId("refused");
        string connectionId;
        DateTimeOffset firstStart;
        try
        {
            connectionId = await SyncSupport.ConnectAsync(Flow, patient, "lakeside", expected.Id);
            var connection = await SyncSupport.WaitForSyncAsync(ApiA, connectionId);
            var sync = connection["sync"]!;
            Assert.True(sync.Str("status") == "completed", connection.ToJsonString());
            Assert.Null(sync.Str("error"));

            var records = await SyncSupport.AllRecordsAsync(ApiA, patient, $"&connection_id={connectionId}");
            var stored = SyncSupport.CountByType(records);
            Assert.False(stored.ContainsKey("Procedure"), $"Procedure stored: {stored.GetValueOrDefault("Procedure")}");
            Assert.False(stored.ContainsKey("Encounter"), $"Encounter stored: {stored.GetValueOrDefault("Encounter")}");
            var rest = expected with
            {
                ResourceCounts = expected.ResourceCounts.Where(c => c.Key is not ("Procedure" or "Encounter")).ToDictionary(StringComparer.Ordinal),
            };
            SyncSupport.AssertSameAsSandbox(rest, records);

            var notes = SyncSupport.SyncNotes(connection);
            Assert.Contains(notes, n => n.StartsWith("Procedure search skipped", StringComparison.Ordinal) && n.Contains("HTTP 403", StringComparison.Ordinal));
            Assert.Contains(notes, n => n.StartsWith("Encounter search skipped", StringComparison.Ordinal) && n.Contains("HTTP 400", StringComparison.Ordinal));
            Assert.DoesNotContain(notes, n => n.Contains("Observation", StringComparison.Ordinal));
            Assert.Equal("active", connection.Str("status"));
            firstStart = DateTimeOffset.Parse(sync.Str("started_at")!);
        }
        finally
        {
            await SyncSupport.SetSandboxAsync(Services, "lakeside", null);
        }

        // The next sync is incremental, yet what the first one missed is fetched whole: nothing stays
        // missing behind a "completed".
        using (var again = await ApiA.PostAsync($"v1/connections/{connectionId}/sync", null, Cancel))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        }
        var second = await SyncSupport.WaitForSyncAsync(ApiA, connectionId, startedAfter: firstStart);
        Assert.True(second["sync"].Str("status") == "completed", second.ToJsonString());
        Assert.Empty(SyncSupport.SyncNotes(second));
        SyncSupport.AssertSameAsSandbox(expected, await SyncSupport.AllRecordsAsync(ApiA, patient, $"&connection_id={connectionId}"));
        // Incremental for the rest: far fewer resources fetched than the patient holds.
        var fetchedAgain = second["sync"]!["resources_fetched"]!.GetValue<long>();
        Assert.True(fetchedAgain < expected.Total, $"second run fetched {fetchedAgain} of {expected.Total}");
        Assert.True(fetchedAgain >= expected.ResourceCounts["Procedure"] + expected.ResourceCounts["Encounter"], $"second run fetched {fetchedAgain}");
    }

    [Fact]
    public async Task A_401_refreshes_exactly_once_and_a_refused_fresh_token_fails_the_sync_as_unauthorized()
    {
        // lakeside (Cerner-like) rotates refresh tokens: the follow-up sync shows the rotated grant was kept.
        var expected = await PatientAsync("lakeside", 40, 200);
        var patient = NewPatientId("unauth");
        string connectionId;
        await SyncSupport.SetSandboxAsync(Services, "lakeside", FailSearches(("*", 401)));
        try
        {
            var refreshesBefore = await SyncSupport.SandboxRefreshRequestsAsync(Services, "lakeside");
            connectionId = await SyncSupport.ConnectAsync(Flow, patient, "lakeside", expected.Id);
            var connection = await SyncSupport.WaitForSyncAsync(ApiA, connectionId);
            var sync = connection["sync"]!;
            Assert.True(sync.Str("status") == "failed", connection.ToJsonString());
            Assert.StartsWith("unauthorized:", sync.Str("error"));
            Assert.Contains("freshly refreshed", sync.Str("error"));

            // Six steps were refused at once; the connection refreshed once for all of them.
            Assert.Equal(refreshesBefore + 1, await SyncSupport.SandboxRefreshRequestsAsync(Services, "lakeside"));

            // The refresh itself succeeded: the connection holds the new tokens and stays usable.
            connection = await ConnectionAsync(connectionId);
            Assert.Equal("active", connection.Str("status"));
            Assert.Null(connection.Str("failure_code"));
            Assert.NotNull(connection.Str("last_refreshed_at"));
            Assert.Empty(await SyncSupport.AllRecordsAsync(ApiA, patient, $"&connection_id={connectionId}"));
        }
        finally
        {
            await SyncSupport.SetSandboxAsync(Services, "lakeside", null);
        }

        var failedStart = DateTimeOffset.Parse((await ConnectionAsync(connectionId))["sync"].Str("started_at")!);
        using (var again = await ApiA.PostAsync($"v1/connections/{connectionId}/sync", null, Cancel))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        }
        var second = await SyncSupport.WaitForSyncAsync(ApiA, connectionId, startedAfter: failedStart);
        Assert.True(second["sync"].Str("status") == "completed", second.ToJsonString());
        SyncSupport.AssertSameAsSandbox(expected, await SyncSupport.AllRecordsAsync(ApiA, patient, $"&connection_id={connectionId}"));
    }

    [Fact]
    public async Task A_401_whose_refresh_is_refused_fails_the_sync_as_unauthorized_and_the_connection_as_refresh_failed()
    {
        var expected = await PatientAsync("riverside", 40, 200);
        await SyncSupport.SetSandboxAsync(Services, "riverside", new { fail_searches = new Dictionary<string, int> { ["*"] = 401 }, refresh = "invalid_grant" });
        try
        {
            var refreshesBefore = await SyncSupport.SandboxRefreshRequestsAsync(Services, "riverside");
            var patient = NewPatientId("refused-refresh");
            var connectionId = await SyncSupport.ConnectAsync(Flow, patient, "riverside", expected.Id);
            var connection = await SyncSupport.WaitForSyncAsync(ApiA, connectionId);
            var sync = connection["sync"]!;
            Assert.True(sync.Str("status") == "failed", connection.ToJsonString());
            Assert.StartsWith("unauthorized:", sync.Str("error"));
            Assert.Contains("could not be refreshed", sync.Str("error"));

            connection = await ConnectionAsync(connectionId);
            Assert.Equal("refresh_failed", connection.Str("status"));
            Assert.Equal("invalid_grant", connection.Str("failure_code"));
            Assert.Null(connection.Str("access_expires_at"));
            // One refused grant: the other refused steps found the connection no longer active.
            Assert.Equal(refreshesBefore + 1, await SyncSupport.SandboxRefreshRequestsAsync(Services, "riverside"));

            // Until the patient reconnects, no sync can start.
            using (var again = await ApiA.PostAsync($"v1/connections/{connectionId}/sync", null, Cancel))
            {
                Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            }
            var after = await ConnectionAsync(connectionId);
            Assert.Equal(sync.Str("started_at"), after["sync"].Str("started_at"));
            Assert.Equal("failed", after["sync"].Str("status"));
        }
        finally
        {
            await SyncSupport.SetSandboxAsync(Services, "riverside", null);
        }
    }

    [Fact]
    public async Task A_next_link_to_another_origin_is_not_followed_and_only_the_first_page_is_kept()
    {
        const int pageSize = 5;
        var expected = await PatientAsync("summit", 60, 300, p => p.ResourceCounts.Values.Count(n => n > pageSize) >= 2);

        // Same host and path, another port: another origin, which must never see the token.
        using var elsewhere = new TcpListener(IPAddress.Loopback, 0);
        elsewhere.Start();
        var port = ((IPEndPoint)elsewhere.LocalEndpoint).Port;
        var connections = 0;
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var client = await elsewhere.AcceptTcpClientAsync(stop.Token);
                    Interlocked.Increment(ref connections);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (SocketException)
            {
            }
        }, CancellationToken.None);

        // The counter counts: one connection of our own before the sync.
        using (var probe = new TcpClient())
        {
            await probe.ConnectAsync(IPAddress.Loopback, port, Cancel);
        }
        for (var i = 0; i < 100 && Volatile.Read(ref connections) == 0; i++) await Task.Delay(50, Cancel);
        Assert.Equal(1, Volatile.Read(ref connections));

        var nextLinkBase = $"http://127.0.0.1:{port}/hospitals/summit/fhir";
        await SyncSupport.SetSandboxAsync(Services, "summit", new { page_size = pageSize, next_link_base = nextLinkBase });
        try
        {
            var patient = NewPatientId("nextlink");
            var connectionId = await SyncSupport.ConnectAsync(Flow, patient, "summit", expected.Id);
            var connection = await SyncSupport.WaitForSyncAsync(ApiA, connectionId);
            Assert.True(connection["sync"].Str("status") == "completed", connection.ToJsonString());

            var notes = SyncSupport.SyncNotes(connection);
            var stored = SyncSupport.CountByType(await SyncSupport.AllRecordsAsync(ApiA, patient, $"&connection_id={connectionId}"));
            foreach (var (type, count) in expected.ResourceCounts)
            {
                Assert.True(stored.GetValueOrDefault(type) == Math.Min(count, pageSize),
                    $"{type}: the sandbox holds {count}, first page {Math.Min(count, pageSize)}, stored {stored.GetValueOrDefault(type)}");
                var note = $"{type}: a next link outside the FHIR base was not followed";
                if (count > pageSize) Assert.Contains(note, notes);
                else Assert.DoesNotContain(note, notes);
            }
            // Nothing but the probe ever reached the other origin.
            Assert.Equal(1, Volatile.Read(ref connections));
        }
        finally
        {
            await SyncSupport.SetSandboxAsync(Services, "summit", null);
            await stop.CancelAsync();
            elsewhere.Stop();
            await accepting;
        }
    }
}

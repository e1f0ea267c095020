using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PatientConnect.Connections;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Webhooks;

namespace PatientConnect.EndToEnd.Tests.Tokens;

/// <summary>
/// Refresh, refresh failure, reconnect and disconnect against the real sandbox over HTTP. The tests of
/// this class run one after another on their own service (they change sandbox settings).
/// </summary>
[Collection(TokenCollection.Name)]
public sealed class TokenLifecycleTests(TokenServices services) : EndToEndTest(services)
{
    private readonly HttpClient _sandbox = new() { BaseAddress = services.SandboxBase, Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Sixty_second_token_is_refreshed_before_it_lapses_and_the_connection_stays_active()
    {
        await SettingsAsync("lakeside", new { access_token_lifetime_seconds = 60 });
        try
        {
            var refreshesBefore = await RefreshCountAsync("lakeside");
            var (connectionId, _) = await ConnectAsync("lakeside");
            var first = await Flow.GetConnectionAsync(connectionId);
            var previousExpiry = DateTimeOffset.Parse(first.Str("access_expires_at")!);
            var refreshedAt = new List<DateTimeOffset>();
            // Two refreshes (each 12 s before a 60 s token lapses) take about 100 s.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(150);
            while (refreshedAt.Count < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), Cancel);
                var connection = await Flow.GetConnectionAsync(connectionId);
                Assert.Equal("active", connection.Str("status"));
                var expiry = DateTimeOffset.Parse(connection.Str("access_expires_at")!);
                // Never seen lapsed: the token in force always has time left.
                Assert.True(expiry > DateTimeOffset.UtcNow, $"access lapsed at {expiry:O}");
                if (expiry != previousExpiry)
                {
                    var refreshed = DateTimeOffset.Parse(connection.Str("last_refreshed_at")!);
                    Assert.True(refreshed < previousExpiry, $"refreshed at {refreshed:O}, after the old token lapsed at {previousExpiry:O}");
                    refreshedAt.Add(refreshed);
                    previousExpiry = expiry;
                }
            }
            Assert.True(refreshedAt.Count >= 2, $"refreshes seen: {refreshedAt.Count}");
            // The cerner-like sandbox rotates refresh tokens: a second refresh only works if the first one's
            // new refresh token was stored.
            Assert.True(await RefreshCountAsync("lakeside") - refreshesBefore >= 2);
            var lease = await Services.Cluster().GetGrain<IConnectionGrain>(connectionId).GetAccess();
            Assert.NotNull(lease);
            Assert.Equal(HttpStatusCode.OK, await FhirReadAsync(lease));
        }
        finally
        {
            await ResetAsync("lakeside");
        }
    }

    [Fact]
    public async Task Invalid_grant_sets_refresh_failed_and_sends_the_webhook()
    {
        await using var receiver = await ReceiverAsync();
        var (connectionId, _) = await ConnectAsync("riverside");
        await SettingsAsync("riverside", new { refresh = "invalid_grant" });
        try
        {
            var grain = Services.Cluster().GetGrain<IConnectionGrain>(connectionId);
            var lease = await grain.GetAccess();
            Assert.NotNull(lease);
            Assert.Null(await grain.RefreshAfterRejected(lease.AccessToken));

            var connection = await Flow.GetConnectionAsync(connectionId);
            Assert.Equal("refresh_failed", connection.Str("status"));
            Assert.Equal("invalid_grant", connection.Str("failure_code"));
            Assert.Null(await grain.GetAccess());

            await receiver.WaitUntilAsync(r => r.For(connectionId).Any(e => e.Str("type") == "connection.refresh_failed"),
                TimeSpan.FromSeconds(30), "connection.refresh_failed");
            var refreshFailed = receiver.For(connectionId).Last();
            Assert.Equal("refresh_failed", refreshFailed["data"].Str("status"));
            Assert.Equal("invalid_grant", refreshFailed["data"].Str("failure_code"));
        }
        finally
        {
            await ResetAsync("riverside");
        }
    }

    [Fact]
    public async Task A_new_session_reconnects_the_same_connection_id()
    {
        var patient = NewPatientId("reconnect");
        var (first, _) = await Flow.ConnectAsync(patient, "summit");
        var connectionId = first.Str("connection_id")!;
        Assert.Equal("disconnected", (await DeleteAsync(connectionId)).Str("status"));

        var (second, _) = await Flow.ConnectAsync(patient, "summit");
        Assert.Equal(connectionId, second.Str("connection_id"));
        var connection = await Flow.GetConnectionAsync(connectionId);
        Assert.Equal("active", connection.Str("status"));
        Assert.Null(connection.Str("failure_code"));
        var lease = await Services.Cluster().GetGrain<IConnectionGrain>(connectionId).GetAccess();
        Assert.Equal(HttpStatusCode.OK, await FhirReadAsync(lease!));
    }

    [Fact]
    public async Task Delete_revokes_at_the_source_and_sends_connection_disconnected()
    {
        await using var receiver = await ReceiverAsync();
        var (connectionId, _) = await ConnectAsync("summit");
        var lease = await Services.Cluster().GetGrain<IConnectionGrain>(connectionId).GetAccess();
        Assert.NotNull(lease);
        Assert.Equal(HttpStatusCode.OK, await FhirReadAsync(lease));

        var deleted = await DeleteAsync(connectionId);
        Assert.Equal("disconnected", deleted.Str("status"));
        Assert.Null(deleted.Str("failure_code"));
        Assert.Null(deleted.Str("access_expires_at"));
        // The sandbox now refuses the old token: it was revoked, not just forgotten.
        Assert.Equal(HttpStatusCode.Unauthorized, await FhirReadAsync(lease));
        Assert.Null(await Services.Cluster().GetGrain<IConnectionGrain>(connectionId).GetAccess());

        await receiver.WaitUntilAsync(r => r.For(connectionId).Any(e => e.Str("type") == "connection.disconnected"),
            TimeSpan.FromSeconds(30), "connection.disconnected");
        var types = receiver.For(connectionId).Select(e => e.Str("type")).Where(t => t!.StartsWith("connection.")).ToList();
        Assert.Equal(["connection.active", "connection.disconnected"], types);

        // Another tenant cannot disconnect it, and an unknown id is a 404 too.
        using var foreign = await ApiB.DeleteAsync($"v1/connections/{connectionId}", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
    }

    [Fact]
    public async Task Delete_keeps_records_unless_delete_records_is_true()
    {
        var (kept, _) = await ConnectAsync("summit");
        var (dropped, _) = await ConnectAsync("summit");
        await InsertRecordAsync(kept);
        await InsertRecordAsync(dropped);

        using (var response = await ApiA.DeleteAsync($"v1/connections/{kept}", Cancel)) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var response = await ApiA.DeleteAsync($"v1/connections/{dropped}?delete_records=true", Cancel)) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var response = await ApiA.DeleteAsync($"v1/connections/{dropped}?delete_records=maybe", Cancel)) Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        Assert.Equal(1, await CountRecordsAsync(kept));
        Assert.Equal(0, await CountRecordsAsync(dropped));
        // A disconnected connection does not sync.
        using var sync = await ApiA.PostAsync($"v1/connections/{kept}/sync", null, Cancel);
        Assert.Equal(HttpStatusCode.Conflict, sync.StatusCode);
    }

    private async Task InsertRecordAsync(string connectionId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(Services.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new Npgsql.NpgsqlCommand("""
            INSERT INTO pc_records (tenant_id, connection_id, resource_type, resource_id, patient_id, resource)
            VALUES (@tenant, @connection, 'Observation', 'obs-1', 'p', '{"resourceType":"Observation","id":"obs-1"}')
            """, connection);
        command.Parameters.AddWithValue("tenant", ServiceProcesses.TenantA);
        command.Parameters.AddWithValue("connection", connectionId);
        await command.ExecuteNonQueryAsync(Cancel);
    }

    private async Task<long> CountRecordsAsync(string connectionId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(Services.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM pc_records WHERE tenant_id = @tenant AND connection_id = @connection AND resource_id = 'obs-1'", connection);
        command.Parameters.AddWithValue("tenant", ServiceProcesses.TenantA);
        command.Parameters.AddWithValue("connection", connectionId);
        return (long)(await command.ExecuteScalarAsync(Cancel))!;
    }

    [Fact]
    public async Task Hundred_concurrent_refresh_triggers_cause_one_refresh_call()
    {
        var (connectionId, _) = await ConnectAsync("riverside");
        var grain = Services.Cluster().GetGrain<IConnectionGrain>(connectionId);
        var lease = await grain.GetAccess();
        Assert.NotNull(lease);
        var before = await RefreshCountAsync("riverside");

        var leases = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => grain.RefreshAfterRejected(lease.AccessToken)));

        Assert.Equal(1, await RefreshCountAsync("riverside") - before);
        var tokens = leases.Select(l => l!.AccessToken).Distinct().ToList();
        Assert.Single(tokens);
        Assert.NotEqual(lease.AccessToken, tokens[0]);
        Assert.Equal(HttpStatusCode.OK, await FhirReadAsync(leases[0]!));
        Assert.Equal("active", (await Flow.GetConnectionAsync(connectionId)).Str("status"));
    }

    private async Task<(string ConnectionId, JsonObject Session)> ConnectAsync(string hospital)
    {
        var (session, query) = await Flow.ConnectAsync(NewPatientId(hospital), hospital);
        Assert.Equal("true", query["success"]);
        return (session.Str("connection_id")!, session);
    }

    private async Task<JsonObject> DeleteAsync(string connectionId)
    {
        using var response = await ApiA.DeleteAsync($"v1/connections/{connectionId}", Cancel);
        return await Json.ReadAsync(response, HttpStatusCode.OK);
    }

    private async Task<WebhookReceiver> ReceiverAsync()
    {
        var receiver = await WebhookReceiver.StartAsync();
        using var response = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url = receiver.Url }, Cancel);
        var created = await Json.ReadAsync(response, HttpStatusCode.Created);
        receiver.Secret = created.Str("secret");
        Assert.StartsWith("whsec_", receiver.Secret);
        return receiver;
    }

    private async Task<HttpStatusCode> FhirReadAsync(AccessLease lease)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{lease.FhirBaseUrl.TrimEnd('/')}/Patient/{lease.FhirPatientId}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", lease.AccessToken);
        using var response = await _sandbox.SendAsync(request, Cancel);
        return response.StatusCode;
    }

    private async Task SettingsAsync(string hospital, object settings)
    {
        using var response = await _sandbox.PutAsJsonAsync($"hospitals/{hospital}/settings", settings, Cancel);
        response.EnsureSuccessStatusCode();
    }

    private async Task ResetAsync(string hospital)
    {
        using var response = await _sandbox.DeleteAsync($"hospitals/{hospital}/settings", Cancel);
        response.EnsureSuccessStatusCode();
    }

    private async Task<long> RefreshCountAsync(string hospital)
    {
        var stats = await Json.GetAsync(_sandbox, $"hospitals/{hospital}/stats");
        return stats["refresh_requests"]!.GetValue<long>();
    }

    public override ValueTask DisposeAsync()
    {
        _sandbox.Dispose();
        return base.DisposeAsync();
    }
}

internal static class ClusterAccess
{
    public static IClusterClient Cluster(this ServiceProcesses services) =>
        ((TokenServices)services).Cluster;
}

/// <summary>One TokenServices for the token and webhook classes; its tests run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class TokenCollection : ICollectionFixture<TokenServices>
{
    public const string Name = "token-services";
}

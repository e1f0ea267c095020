using System.Net;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Tokens;
using PatientConnect.Retention;

namespace PatientConnect.EndToEnd.Tests.Retention;

/// <summary>
/// The cluster-wide retention job on a real silo and Postgres: rows older than the policy go, newer
/// ones stay, and a pending webhook delivery (with its event and attempts) is never deleted.
/// </summary>
[Collection(TokenCollection.Name)]
public sealed class RetentionTests(TokenServices services) : EndToEndTest(services)
{
    private TokenServices Tokens => (TokenServices)Services;

    [Fact]
    public async Task Retention_deletes_rows_past_the_policy_and_keeps_newer_and_pending_ones()
    {
        await using var db = new NpgsqlConnection(Services.ConnectionString);
        await db.OpenAsync(Cancel);
        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var oldDelivered = await EventAsync(db, run, "old-delivered", TimeSpan.FromDays(40), delivered: true);
        var oldFailed = await EventAsync(db, run, "old-failed", TimeSpan.FromDays(40), failed: true);
        var oldPending = await EventAsync(db, run, "old-pending", TimeSpan.FromDays(40));
        var newDelivered = await EventAsync(db, run, "new-delivered", TimeSpan.FromDays(1), delivered: true);

        // Idempotency: one key whose record is aged past 24 h, one fresh.
        var oldKey = "ret-old-" + run;
        var newKey = "ret-new-" + run;
        await IdempotentPostAsync(oldKey);
        var aged = await ExecuteAsync(db, """
            UPDATE orleansstorage SET modifiedon = modifiedon - interval '2 days'
            WHERE graintypestring = 'idempotency' AND grainidextensionstring LIKE '%' || @hash || '%'
            """, ("hash", Sha256Hex(oldKey)));
        Assert.True(aged == 1, $"idempotency rows found for the old key: {aged}\n{await DumpIdempotencyRowsAsync(db)}");
        var replayed = await IdempotentPostAsync(newKey);

        // The job is scheduled by every silo at start: one reminder for the whole cluster.
        Assert.Equal(1L, await ScalarAsync<long>(db,
            "SELECT count(*) FROM orleansreminderstable WHERE serviceid = @service AND remindername = 'retention'",
            ("service", Services.ClusterId)));

        var report = await Tokens.Cluster.GetGrain<IRetentionGrain>(0).RunOnce();

        Assert.True(report.WebhookDeliveries >= 2 && report.WebhookEvents >= 2 && report.WebhookAttempts >= 2 && report.IdempotencyRecords >= 1,
            report.ToString());
        foreach (var gone in new[] { oldDelivered, oldFailed })
        {
            Assert.Equal(0L, await CountAsync(db, "pc_webhook_outbox", "id = @id", gone.Outbox));
            Assert.Equal(0L, await CountAsync(db, "pc_webhook_deliveries", "id = @id", gone.Delivery));
            Assert.Equal(0L, await CountAsync(db, "pc_webhook_attempts", "delivery_id = @id", gone.Delivery));
        }
        foreach (var kept in new[] { oldPending, newDelivered })
        {
            Assert.Equal(1L, await CountAsync(db, "pc_webhook_outbox", "id = @id", kept.Outbox));
            Assert.Equal(1L, await CountAsync(db, "pc_webhook_deliveries", "id = @id", kept.Delivery));
            Assert.Equal(1L, await CountAsync(db, "pc_webhook_attempts", "delivery_id = @id", kept.Delivery));
        }
        Assert.Equal(0L, await IdempotencyRowsAsync(db, oldKey));
        Assert.Equal(1L, await IdempotencyRowsAsync(db, newKey));
        // The fresh key still replays its first answer.
        Assert.Equal(replayed, await IdempotentPostAsync(newKey));

        // A second pass finds nothing more of ours to delete, and still keeps the pending event.
        await Tokens.Cluster.GetGrain<IRetentionGrain>(0).RunOnce();
        Assert.Equal(1L, await CountAsync(db, "pc_webhook_outbox", "id = @id", oldPending.Outbox));
    }

    [Fact]
    public async Task Retention_deletes_ended_sessions_past_the_policy_and_keeps_open_and_recent_ones()
    {
        await using var db = new NpgsqlConnection(Services.ConnectionString);
        await db.OpenAsync(Cancel);
        var (ended, denied) = await Flow.ConnectAsync(NewPatientId("ret-session"), "riverside", "deny");
        Assert.Equal("access_denied", denied["error"]);
        Assert.Equal("complete", ended.Str("status"));
        var open = await Flow.CreateSessionAsync(NewPatientId("ret-session"));
        var (recent, _) = await Flow.ConnectAsync(NewPatientId("ret-session"), "riverside", "deny");
        string endedId = ended.Str("id")!, openId = open.Str("id")!, recentId = recent.Str("id")!;

        // The ended and the open session last changed 100 days ago; the recent one just now.
        foreach (var id in new[] { endedId, openId })
        {
            Assert.Equal(1, await ExecuteAsync(db,
                "UPDATE pc_patient_sessions SET modified_at = modified_at - interval '100 days' WHERE session_id = @id",
                ("id", id)));
        }
        // The ended session's patient's list, warm in the silo's page cache ...
        var endedPatient = ended.Str("patient_id")!;
        Assert.Equal([endedId], (await Json.GetAsync(ApiA, $"v1/patients/{endedPatient}/patient-sessions"))["data"]!.AsArray().Select(s => s.Str("id")));

        var report = await Tokens.Cluster.GetGrain<IRetentionGrain>(0).RunOnce();

        Assert.True(report.Sessions >= 1, report.ToString());
        Assert.Equal(0L, await SessionRowsAsync(db, endedId));
        // ... is not served once retention deleted the row: the patient has no session left, so it is not one.
        using (var listed = await ApiA.GetAsync($"v1/patients/{endedPatient}/patient-sessions", Cancel))
        {
            Assert.Equal(HttpStatusCode.NotFound, listed.StatusCode);
        }
        // Never an open session, however old its row: it ends by its own expiry first.
        Assert.Equal(1L, await SessionRowsAsync(db, openId));
        Assert.Equal(1L, await SessionRowsAsync(db, recentId));
    }

    private static Task<long> SessionRowsAsync(NpgsqlConnection db, string sessionId) => ScalarAsync<long>(db,
        "SELECT count(*) FROM pc_patient_sessions WHERE session_id = @id", ("id", sessionId));

    private sealed record Rows(long Outbox, long Delivery);

    private static async Task<Rows> EventAsync(NpgsqlConnection db, string run, string name, TimeSpan age,
        bool delivered = false, bool failed = false)
    {
        var eventId = $"evt_ret_{run}_{name}";
        // An endpoint id no tenant has: the dispatcher never claims these rows, so they stay as written.
        var created = DateTimeOffset.UtcNow - age;
        var outbox = await ScalarAsync<long>(db, """
            INSERT INTO pc_webhook_outbox (tenant_id, event_id, event_type, aggregate_id, payload, created_at, fanned_out_at)
            VALUES ('retention-tenant', @event, 'connection.active', @aggregate, '{}'::jsonb, @created, @created)
            RETURNING id
            """, ("event", eventId), ("aggregate", "conn_ret_" + run), ("created", created));
        var delivery = await ScalarAsync<long>(db, """
            INSERT INTO pc_webhook_deliveries (outbox_id, endpoint_id, tenant_id, event_id, event_type, aggregate_id, created_at,
                                               attempts, delivered_at, failed_at, next_attempt_at)
            VALUES (@outbox, @endpoint, 'retention-tenant', @event, 'connection.active', @aggregate, @created,
                    1, @delivered, @failed, now() + interval '1 day')
            RETURNING id
            """, ("outbox", outbox), ("endpoint", "whep_retention_" + run), ("event", eventId), ("aggregate", "conn_ret_" + run),
            ("created", created), ("delivered", delivered ? (object)(created + TimeSpan.FromMinutes(1)) : DBNull.Value),
            ("failed", failed ? (object)(created + TimeSpan.FromHours(25)) : DBNull.Value));
        await ExecuteAsync(db, """
            INSERT INTO pc_webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms)
            VALUES (@delivery, @created, 500, 'HTTP 500', 12)
            """, ("delivery", delivery), ("created", created));
        return new Rows(outbox, delivery);
    }

    /// <summary>POST /v1/patient-sessions with an Idempotency-Key; the session id it answered.</summary>
    private async Task<string> IdempotentPostAsync(string key)
    {
        using var response = await Flow.PostSessionAsync(new { patient_id = "retention-patient", return_url = Flow.ReturnUrl }, key);
        var body = await Json.ReadAsync(response, HttpStatusCode.Created);
        return body.Str("id")!;
    }

    private static string Sha256Hex(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static Task<long> IdempotencyRowsAsync(NpgsqlConnection db, string key) => ScalarAsync<long>(db, """
        SELECT count(*) FROM orleansstorage
        WHERE graintypestring = 'idempotency' AND grainidextensionstring LIKE '%' || @hash || '%'
        """, ("hash", Sha256Hex(key)));

    private static async Task<string> DumpIdempotencyRowsAsync(NpgsqlConnection db)
    {
        await using var command = new NpgsqlCommand("SELECT graintypestring, coalesce(grainidextensionstring, '(null)'), modifiedon FROM orleansstorage LIMIT 20", db);
        await using var reader = await command.ExecuteReaderAsync(Cancel);
        var text = new StringBuilder();
        while (await reader.ReadAsync(Cancel)) text.AppendLine($"{reader.GetString(0)} | {reader.GetString(1)} | {reader.GetDateTime(2):O}");
        return text.ToString();
    }

    private static Task<long> CountAsync(NpgsqlConnection db, string table, string where, long id) =>
        ScalarAsync<long>(db, $"SELECT count(*) FROM {table} WHERE {where}", ("id", id));

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection db, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, db);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return (T)(await command.ExecuteScalarAsync(Cancel))!;
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection db, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, db);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return await command.ExecuteNonQueryAsync(Cancel);
    }
}

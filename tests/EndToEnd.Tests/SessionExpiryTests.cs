using System.Net;
using System.Web;
using Npgsql;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>
/// The slow tests: a session with the shortest allowed lifetime (60 s) ages out, and the expiry is shown
/// to come from the durable schedule (stored status and event, read from the database before any request
/// could compute "expired" from the clock).
/// </summary>
public sealed class SessionExpiryTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Fact]
    public async Task Expired_session_is_refused_listed_as_expired_and_sends_session_expired_back()
    {
        var patient = NewPatientId("expiry");
        var riverside = await Flow.SourceIdAsync("riverside");
        var session = await Flow.CreateSessionAsync(patient, riverside, expiresIn: 60);
        var sessionId = session.Str("id")!;
        var expiresAt = DateTimeOffset.Parse(session.Str("expires_at")!);
        Assert.InRange((expiresAt - DateTimeOffset.Parse(session.Str("created_at")!)).TotalSeconds, 59, 61);
        var hosted = await Flow.CreateSessionAsync(patient, expiresIn: 60);

        // The patient got as far as the EHR's consent while the link was live, and comes back late.
        var callback = await Flow.ConsentAsync(await Flow.OpenDirectAsync(session.Str("url")!));

        // Before anything asks for either session (a GET computes "expired" from the clock, so it proves
        // nothing): the stored row says expired and the outbox holds patient_session.expired, both put
        // there by the durable trigger alone, on time.
        foreach (var (id, at) in new[] { (sessionId, expiresAt), (hosted.Str("id")!, DateTimeOffset.Parse(hosted.Str("expires_at")!)) })
        {
            var evidence = await ExpiryEvidence.WaitAsync(Services.ConnectionString, id, at + TimeSpan.FromSeconds(15), Cancel);
            Assert.Equal(2, evidence.StoredStatus);
            Assert.NotNull(evidence.EventAt);
            // At expires_at, not before and not minutes later (the scheduler polls every second; the
            // shared CPU of a test run gets a few seconds of slack).
            Assert.InRange((evidence.EventAt!.Value - at).TotalSeconds, 0, 5);
        }

        // The stored status is what GET shows.
        var expired = await Flow.GetSessionAsync(sessionId);
        Assert.Equal("expired", expired.Str("status"));
        Assert.Null(expired.Str("connection_id"));
        Assert.Equal("expired", (await Flow.GetSessionAsync(hosted.Str("id")!)).Str("status"));

        var listed = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions?status=expired");
        Assert.Equal([hosted.Str("id"), sessionId], listed["data"]!.AsArray().Select(s => s.Str("id")).ToList());
        var open = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions?status=open");
        Assert.Empty(open["data"]!.AsArray());

        // The link no longer leads to the EHR: a clear page with a way back to the app.
        foreach (var url in new[] { session.Str("url")!, hosted.Str("url")!, hosted.Str("url") + "?q=Riverside" })
        {
            using var page = await Anonymous.GetAsync(url, Cancel);
            var html = await page.Content.ReadAsStringAsync(Cancel);
            Assert.True(page.StatusCode is HttpStatusCode.OK or HttpStatusCode.Gone, $"{url}: {(int)page.StatusCode}");
            Assert.Null(page.Headers.Location);
            Assert.Contains("expired", html, StringComparison.OrdinalIgnoreCase);
            Assert.Empty(HostedModeTests.Links(html));
        }

        // The late callback connects nothing; if it goes back to the app, it says session_expired.
        using var late = await Flow.CallbackAsync(callback);
        if (late.Headers.Location is not null)
        {
            var result = await Flow.ReturnParametersAsync(late);
            Assert.Equal("false", result["success"]);
            Assert.Equal("session_expired", result["error"]);
            Assert.Equal(sessionId, result["patient_session_id"]);
        }
        else
        {
            Assert.True((int)late.StatusCode is >= 400 and < 500, $"{(int)late.StatusCode}");
            var html = await late.Content.ReadAsStringAsync(Cancel);
            Assert.Contains("session_expired", HttpUtility.HtmlDecode(html), StringComparison.Ordinal);
        }
        Assert.Empty((await Json.GetAsync(ApiA, $"v1/patients/{patient}/connections"))["data"]!.AsArray());
        Assert.Equal("expired", (await Flow.GetSessionAsync(sessionId)).Str("status"));
    }
}

/// <summary>
/// A session's expiry across a silo crash: the silo is SIGKILLed right after the create and is still
/// down at expires_at; once it is back, the stored schedule expires the session and sends
/// patient_session.expired, with no request touching the session. Its own stack, since it kills the silo.
/// </summary>
public sealed class SessionExpiryAcrossRestartTests(ExpiryRestartServices services)
    : EndToEndTest(services), IClassFixture<ExpiryRestartServices>
{
    [Fact]
    public async Task Session_expires_with_its_event_after_the_silo_was_down_at_expires_at()
    {
        var session = await Flow.CreateSessionAsync(NewPatientId("expiry-restart"), expiresIn: 60);
        var sessionId = session.Str("id")!;
        var expiresAt = DateTimeOffset.Parse(session.Str("expires_at")!);

        Services.KillSilo(0);
        var wait = expiresAt - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(2);
        if (wait > TimeSpan.Zero) await Task.Delay(wait, Cancel);
        // Nothing ran while the only silo was down: the row is still open.
        Assert.Equal(0, (await ExpiryEvidence.ReadAsync(Services.ConnectionString, sessionId, Cancel)).StoredStatus);

        Services.StartSilo(0);
        var evidence = await ExpiryEvidence.WaitAsync(Services.ConnectionString, sessionId, DateTimeOffset.UtcNow + TimeSpan.FromSeconds(90), Cancel);
        Assert.Equal(2, evidence.StoredStatus);
        Assert.NotNull(evidence.EventAt);
        Assert.True(evidence.EventAt >= expiresAt, $"event at {evidence.EventAt:O}, expires_at {expiresAt:O}");
        Assert.Equal(1, evidence.Events);
    }
}

public sealed class ExpiryRestartServices() : ServiceProcesses(silos: 1);

/// <summary>What the database says about a session's expiry: its stored status and its expired event.</summary>
internal sealed record ExpiryEvidence(short StoredStatus, DateTimeOffset? EventAt, long Events)
{
    public static async Task<ExpiryEvidence> ReadAsync(string connectionString, string sessionId, CancellationToken cancel)
    {
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync(cancel);
        await using var command = new NpgsqlCommand("""
            SELECT s.status,
                   (SELECT min(o.created_at) FROM pc_webhook_outbox o WHERE o.aggregate_id = s.session_id AND o.event_type = 'patient_session.expired'),
                   (SELECT count(*) FROM pc_webhook_outbox o WHERE o.aggregate_id = s.session_id AND o.event_type = 'patient_session.expired')
            FROM pc_patient_sessions s WHERE s.session_id = @id
            """, db);
        command.Parameters.AddWithValue("id", sessionId);
        await using var reader = await command.ExecuteReaderAsync(cancel);
        Assert.True(await reader.ReadAsync(cancel), $"no stored row for {sessionId}");
        return new ExpiryEvidence(reader.GetInt16(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt64(2));
    }

    /// <summary>Polls until the session is stored expired with its event, or <paramref name="until"/>; the last reading.</summary>
    public static async Task<ExpiryEvidence> WaitAsync(string connectionString, string sessionId, DateTimeOffset until, CancellationToken cancel)
    {
        while (true)
        {
            var evidence = await ReadAsync(connectionString, sessionId, cancel);
            if ((evidence.StoredStatus == 2 && evidence.EventAt is not null) || DateTimeOffset.UtcNow > until) return evidence;
            await Task.Delay(250, cancel);
        }
    }
}

using System.Net;
using System.Net.Http.Json;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Webhooks;

/// <summary>
/// Its own sandbox, silo and Api (the test kills the silo), with webhook retries and leases short
/// enough that a crashed silo's claims lapse within seconds.
/// </summary>
public sealed class WebhookCrashServices : ServiceProcesses
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);

    protected override void AddSiloEnvironment(Dictionary<string, string> env)
    {
        env["PatientConnect__Webhooks__PollInterval"] = "00:00:00.200";
        env["PatientConnect__Webhooks__RetryBaseDelay"] = "00:00:00.300";
        env["PatientConnect__Webhooks__RetryMaxDelay"] = "00:00:02";
        env["PatientConnect__Webhooks__HttpTimeout"] = "00:00:02";
        env["PatientConnect__Webhooks__Lease"] = Lease.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// The outbox and its dispatcher live in the silos: a silo killed (SIGKILL) while events wait for a
/// receiver that is down loses none of them; the restarted silo delivers each exactly once.
/// </summary>
public sealed class WebhookSiloCrashTests(WebhookCrashServices services) : EndToEndTest(services), IClassFixture<WebhookCrashServices>
{
    [Fact]
    public async Task Silo_crash_loses_no_pending_event_and_delivers_each_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Down = true;
        using (var created = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url = receiver.Url }, Cancel))
        {
            receiver.Secret = (await Json.ReadAsync(created, HttpStatusCode.Created)).Str("secret");
        }

        var (session, _) = await Flow.ConnectAsync(NewPatientId("silo-crash"), "summit");
        var sessionId = session.Str("id")!;
        var connectionId = session.Str("connection_id")!;
        using (var deleted = await ApiA.DeleteAsync($"v1/connections/{connectionId}", Cancel)) Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        // Refused attempts show the events were in the dispatcher's hands when the silo died.
        await receiver.WaitUntilAsync(r => r.Requests >= 3, TimeSpan.FromSeconds(30), "refused attempts of the pending events");

        Services.KillSilo(0);
        Assert.True(Services.Silo(0).HasExited);
        Assert.Empty(receiver.Accepted);
        // Up before the silo is back: whatever arrives now was kept across the crash, in Postgres.
        receiver.Down = false;
        Services.StartSilo(0);
        await Services.WaitForActiveSilosAsync(1);

        await receiver.WaitUntilAsync(r => r.For(sessionId).Count >= 1 && r.For(connectionId).Count >= 2,
            TimeSpan.FromSeconds(90), "every pending event after the silo restart");
        // Long enough for a second delivery to show: a lapsed lease and a few polls and retries.
        await Task.Delay(WebhookCrashServices.Lease + TimeSpan.FromSeconds(3), Cancel);

        var mine = receiver.Accepted.Where(e => e["data"]?["id"]?.GetValue<string>() is { } id && (id == sessionId || id == connectionId)).ToList();
        Assert.Equal(["connection.active", "connection.disconnected", "patient_session.completed"],
            mine.Select(e => e.Str("type")!).Order(StringComparer.Ordinal).ToArray());
        // Once each, by event id (the body's id and the webhook-id header agree).
        Assert.All(mine.GroupBy(e => e.Str("id")), g => Assert.Single(g));
        Assert.All(mine, e => Assert.Equal(e.Str("id"), e.Str("_webhook_id")));
        Assert.Equal(0, receiver.BadSignatures);
    }
}

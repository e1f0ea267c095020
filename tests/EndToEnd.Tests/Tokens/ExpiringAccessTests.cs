using System.Net;
using System.Net.Http.Json;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Webhooks;

namespace PatientConnect.EndToEnd.Tests.Tokens;

/// <summary>Its own service where the payer vendor's authorizations last 45 s and the warning comes 35 s before the end.</summary>
public sealed class ExpiryServices : ServiceProcesses
{
    public static readonly TimeSpan Maximum = TimeSpan.FromSeconds(45);
    public static readonly TimeSpan WarnBefore = TimeSpan.FromSeconds(35);

    protected override void AddSiloEnvironment(Dictionary<string, string> env)
    {
        env["PatientConnect__Authorization__VendorMaximum__payer"] = Maximum.ToString("c");
        env["PatientConnect__Authorization__WarnBefore"] = WarnBefore.ToString("c");
        env["PatientConnect__Webhooks__PollInterval"] = "00:00:00.200";
    }
}

/// <summary>authorization_expires_at and connection.expiring: once per authorization, reset by a reconnect.</summary>
public sealed class ExpiringAccessTests(ExpiryServices services) : EndToEndTest(services), IClassFixture<ExpiryServices>
{
    [Fact]
    public async Task Connection_expiring_arrives_once_before_the_authorization_ends_and_again_only_in_the_reconnected_window()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using (var created = await ApiA.PostAsJsonAsync("v1/webhook-endpoints", new { url = receiver.Url }, Cancel))
            receiver.Secret = (await Json.ReadAsync(created, HttpStatusCode.Created)).Str("secret");
        var patient = NewPatientId("expiring");

        var (first, _) = await Flow.ConnectAsync(patient, "summit");
        var connectionId = first.Str("connection_id")!;
        var connection = await Flow.GetConnectionAsync(connectionId);
        var connectedAt = DateTimeOffset.Parse(connection.Str("connected_at")!);
        var expiresAt = DateTimeOffset.Parse(connection.Str("authorization_expires_at")!);
        Assert.Equal(connectedAt + ExpiryServices.Maximum, expiresAt);

        // The warning: once, inside its window, before the end, with the end it warns about.
        await receiver.WaitUntilAsync(r => Expiring(r, connectionId).Count == 1, TimeSpan.FromSeconds(40), "connection.expiring");
        var warning = Expiring(receiver, connectionId).Single();
        var warnedAt = DateTimeOffset.Parse(warning.Str("created_at")!);
        Assert.True(warnedAt >= expiresAt - ExpiryServices.WarnBefore && warnedAt < expiresAt, $"warned at {warnedAt:O} for {expiresAt:O}");
        Assert.Equal(expiresAt, DateTimeOffset.Parse(warning["data"].Str("authorization_expires_at")!));
        Assert.Equal("active", warning["data"].Str("status"));

        // Reconnect: a new authorization with its own end, and no warning until its own window opens.
        var (second, _) = await Flow.ConnectAsync(patient, "summit");
        Assert.Equal(connectionId, second.Str("connection_id"));
        var reconnected = await Flow.GetConnectionAsync(connectionId);
        var newExpiresAt = DateTimeOffset.Parse(reconnected.Str("authorization_expires_at")!);
        Assert.Equal(DateTimeOffset.Parse(reconnected.Str("connected_at")!) + ExpiryServices.Maximum, newExpiresAt);
        Assert.True(newExpiresAt > expiresAt);
        var windowOpens = newExpiresAt - ExpiryServices.WarnBefore;
        while (DateTimeOffset.UtcNow < windowOpens - TimeSpan.FromSeconds(1))
        {
            Assert.Single(Expiring(receiver, connectionId));
            await Task.Delay(250, Cancel);
        }
        await receiver.WaitUntilAsync(r => Expiring(r, connectionId).Count == 2, TimeSpan.FromSeconds(40), "the second connection.expiring");
        var again = Expiring(receiver, connectionId)[1];
        Assert.Equal(newExpiresAt, DateTimeOffset.Parse(again["data"].Str("authorization_expires_at")!));
        Assert.True(DateTimeOffset.Parse(again.Str("created_at")!) >= windowOpens);

        // Still once per authorization; the history holds both, the same events.
        await Task.Delay(TimeSpan.FromSeconds(3), Cancel);
        Assert.Equal(2, Expiring(receiver, connectionId).Count);
        var history = await Json.GetAsync(ApiA, $"v1/patients/{patient}/events?type=connection.expiring");
        Assert.Equal(
            Expiring(receiver, connectionId).Select(e => e.Str("id")).Reverse(),
            history["data"]!.AsArray().Select(e => e.Str("id")));
    }

    [Fact]
    public async Task The_sources_refresh_token_lifetime_sets_authorization_expires_at()
    {
        // riverside's vendor has no configured maximum: only the token response can say when access ends.
        await Sync.SyncSupport.SetSandboxAsync(Services, "riverside", new { refresh_token_lifetime_seconds = 3600 });
        try
        {
            var before = DateTimeOffset.UtcNow;
            var (session, _) = await Flow.ConnectAsync(NewPatientId("rtlife"), "riverside");
            var connection = await Flow.GetConnectionAsync(session.Str("connection_id")!);
            var expiresAt = DateTimeOffset.Parse(connection.Str("authorization_expires_at")!);
            Assert.InRange(expiresAt, before + TimeSpan.FromSeconds(3600) - TimeSpan.FromSeconds(5), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(3600) + TimeSpan.FromSeconds(5));
        }
        finally
        {
            await Sync.SyncSupport.SetSandboxAsync(Services, "riverside", null);
        }
    }

    private static List<System.Text.Json.Nodes.JsonObject> Expiring(WebhookReceiver receiver, string connectionId) =>
        receiver.For(connectionId).Where(e => e.Str("type") == "connection.expiring").ToList();
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using PatientConnect.Connections;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Secrets;

/// <summary>
/// No secret the test creates (tokens, webhook secret, API key, client secret) is in any table or any
/// grain state in plaintext; a token key rotation keeps everything readable and moves it to the new key.
/// </summary>
public sealed class SecretsAtRestTests(KeyRingServices services) : EndToEndTest(services), IClassFixture<KeyRingServices>
{
    private IClusterClient Cluster => services.Cluster;

    [Fact]
    public async Task No_table_or_grain_state_holds_a_secret_in_plaintext()
    {
        // A confidential client (its secret goes to the token endpoint), a token pair, a webhook secret
        // answered through an idempotent POST (so the answer is stored for replay).
        var (session, _) = await Flow.ConnectAsync(NewPatientId("scan"), "lakeside");
        var lease = await Cluster.GetGrain<IConnectionGrain>(session.Str("connection_id")!).GetAccess();
        Assert.NotNull(lease);
        var (secret, _) = await CreateWebhookAsync("scan-" + Guid.NewGuid().ToString("N"));

        string[] needles = [lease.AccessToken, secret, secret["whsec_".Length..], "whsec_", Services.ApiKeyA, Services.ApiKeyB, "sandbox-secret"];
        var rows = await services.AllRowsAsync();
        Assert.Contains(rows, r => r.Table == "orleansstorage");
        Assert.Contains(rows, r => r.Table == "pc_webhook_endpoints");
        foreach (var needle in needles)
        {
            // As written, as hex (bytea), and JSON-escaped as grain state stores strings ('+' becomes \u002B).
            var hex = Convert.ToHexStringLower(Encoding.UTF8.GetBytes(needle));
            var escaped = System.Text.Json.JsonSerializer.Serialize(needle)[1..^1];
            var escapedHex = Convert.ToHexStringLower(Encoding.UTF8.GetBytes(escaped));
            var hits = rows.Where(r => r.Row.Contains(needle, StringComparison.Ordinal) || r.Row.Contains(hex, StringComparison.Ordinal)
                                       || r.Row.Contains(escaped, StringComparison.Ordinal) || r.Row.Contains(escapedHex, StringComparison.Ordinal)).ToList();
            Assert.True(hits.Count == 0, $"{Describe(needle)} found in {string.Join(", ", hits.Select(h => h.Table).Distinct())}");
        }
    }

    [Fact]
    public async Task Tokens_under_key_1_stay_readable_with_key_2_are_rewritten_under_key_2_and_key_1_can_go()
    {
        var (session, _) = await Flow.ConnectAsync(NewPatientId("rotate"), "riverside");
        var connectionId = session.Str("connection_id")!;
        var idempotencyKey = "rotate-" + Guid.NewGuid().ToString("N");
        var (secret, endpointId) = await CreateWebhookAsync(idempotencyKey);
        var before = await Cluster.GetGrain<IConnectionGrain>(connectionId).GetAccess();
        Assert.NotNull(before);
        var stored = (await services.GrainStateAsync("connection", connectionId))!;
        Assert.True(KeyRingServices.KeyIds(stored, "AccessTokenProtected") is ["k1"], Around(stored));
        Assert.True(KeyRingServices.KeyIds(stored, "RefreshTokenProtected") is ["k1"], Around(stored));
        Assert.Equal("k1", await services.WebhookSecretKeyIdAsync(endpointId));

        // Step 1 and 2: add key 2 (it encrypts from now on) and re-encrypt what is stored.
        services.Keys = ["k1", "k2"];
        services.ReencryptOnStart = true;
        await RestartSiloAsync();
        await WaitUntilAsync(async () =>
            KeyRingServices.KeyIds((await services.GrainStateAsync("connection", connectionId))!, "AccessTokenProtected") is ["k2"]
            && KeyRingServices.KeyIds((await services.GrainStateAsync("connection", connectionId))!, "RefreshTokenProtected") is ["k2"]
            && await services.WebhookSecretKeyIdAsync(endpointId) == "k2", "everything re-encrypted under k2");
        var readable = await Cluster.GetGrain<IConnectionGrain>(connectionId).GetAccess();
        Assert.Equal(before.AccessToken, readable?.AccessToken);

        // Step 3: key 1 removed; everything still reads.
        services.Keys = ["k2"];
        services.ReencryptOnStart = false;
        await RestartSiloAsync();
        var after = await RetryAsync(() => Cluster.GetGrain<IConnectionGrain>(connectionId).GetAccess());
        Assert.Equal(before.AccessToken, after?.AccessToken);
        // The idempotent answer (with the webhook secret) was re-encrypted too: the replay still shows it.
        Assert.Equal((secret, endpointId), await CreateWebhookAsync(idempotencyKey));
        Assert.Equal("active", (await Flow.GetConnectionAsync(connectionId)).Str("status"));
    }

    private async Task RestartSiloAsync()
    {
        Services.KillSilo(0);
        Services.StartSilo(0);
        await Services.WaitForActiveSilosAsync(1);
        await Services.WaitForReadyAsync();
    }

    /// <summary>POST /v1/webhook-endpoints with an Idempotency-Key: the secret and the endpoint id.</summary>
    private async Task<(string Secret, string Id)> CreateWebhookAsync(string idempotencyKey)
    {
        var created = await RetryAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/webhook-endpoints")
            {
                Content = JsonContent.Create(new { url = "https://hooks.example/" + idempotencyKey }),
            };
            request.Headers.Add("Idempotency-Key", idempotencyKey);
            using var response = await ApiA.SendAsync(request, Cancel);
            return await Json.ReadAsync(response, HttpStatusCode.Created);
        });
        return (created.Str("secret")!, created.Str("id")!);
    }

    /// <summary>Right after a silo restart the Api's and the test's clients may need a moment to reach it.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception) when (attempt < 40)
            {
                await Task.Delay(500, Cancel);
            }
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(500, Cancel);
        }
        Assert.Fail($"not within 60 s: {what}");
    }

    private static string Around(string state)
    {
        var at = Math.Max(0, state.IndexOf("TokenProtected", StringComparison.Ordinal) - 40);
        return state[at..Math.Min(state.Length, at + 400)];
    }

    private static string Describe(string needle) => needle.Length <= 8 ? $"'{needle}'" : $"a secret ({needle[..4]}…, {needle.Length} chars)";
}

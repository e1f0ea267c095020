using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using PatientConnect.Connections;
using PatientConnect.Grains.Webhooks;
using PatientConnect.Idempotency;

namespace PatientConnect.Grains.Security;

/// <summary>
/// Step two of a token key rotation (README: "Rotating the token encryption key"): with
/// <c>PatientConnect:TokenKeyRotation:ReencryptOnStart=true</c> a silo, once started, re-encrypts every
/// stored secret under the newest key: webhook signing secrets (rows), connection tokens and stored
/// idempotent answers (grain state, through their grains so no write races a running grain). Each
/// value is rewritten only when it is under an older key, so running it on several silos, or twice,
/// is harmless. Connections also move to the newest key on their own whenever they activate.
/// </summary>
public sealed partial class TokenKeyRotation(
    IServiceProvider services,
    IConfiguration configuration,
    TokenProtector protector,
    ILogger<TokenKeyRotation> logger) : BackgroundService
{
    public const string Setting = "PatientConnect:TokenKeyRotation:ReencryptOnStart";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!configuration.GetValue<bool>(Setting)) return;
        var database = services.GetService<WebhookDatabase>();
        if (database is null) return;
        var grains = services.GetRequiredService<IGrainFactory>();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var secrets = await ReencryptWebhookSecretsAsync(database.DataSource, stoppingToken);
                var connections = await ForEachGrainAsync(database.DataSource, "connection",
                    id => grains.GetGrain<IConnectionGrain>(id).ReencryptTokens(), stoppingToken);
                var answers = await ForEachGrainAsync(database.DataSource, "idempotency",
                    id => grains.GetGrain<IIdempotencyGrain>(id).Reencrypt(), stoppingToken);
                LogDone(logger, protector.CurrentKeyId, secrets, connections, answers);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && attempt < 30)
            {
                // The cluster may still be settling right after start; the work is idempotent, so start over.
                LogRetry(logger, e, attempt);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    private async Task<int> ReencryptWebhookSecretsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var rows = new List<(string Id, string Secret)>();
        await using (var select = dataSource.CreateCommand("SELECT id, secret_protected FROM pc_webhook_endpoints"))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) rows.Add((reader.GetString(0), reader.GetString(1)));
        }
        var changed = 0;
        foreach (var (id, secret) in rows)
        {
            if (protector.Reprotect(secret, WebhookEndpointsGrain.SecretContext(id)) is not { } renewed) continue;
            // Only if nobody changed it meanwhile (another silo doing the same rotation).
            await using var update = dataSource.CreateCommand("UPDATE pc_webhook_endpoints SET secret_protected = @new WHERE id = @id AND secret_protected = @old");
            update.Parameters.AddWithValue("new", renewed);
            update.Parameters.AddWithValue("id", id);
            update.Parameters.AddWithValue("old", secret);
            changed += await update.ExecuteNonQueryAsync(cancellationToken);
        }
        return changed;
    }

    /// <summary>Calls <paramref name="reencrypt"/> for every stored grain of one type (its string key), a few at a time.</summary>
    private static async Task<int> ForEachGrainAsync(NpgsqlDataSource dataSource, string grainType, Func<string, Task<bool>> reencrypt, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await using (var select = dataSource.CreateCommand(
            "SELECT DISTINCT grainidextensionstring FROM orleansstorage WHERE graintypestring = @type AND payloadbinary IS NOT NULL AND grainidextensionstring IS NOT NULL"))
        {
            select.Parameters.AddWithValue("type", grainType);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) keys.Add(reader.GetString(0));
        }
        var changed = 0;
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (key, _) =>
        {
            if (await reencrypt(key)) Interlocked.Increment(ref changed);
        });
        return changed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Token key rotation: re-encrypted under key {KeyId}: {Secrets} webhook secrets, {Connections} connections, {Answers} idempotent answers")]
    private static partial void LogDone(ILogger logger, string keyId, int secrets, int connections, int answers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Token key rotation: attempt {Attempt} failed; retrying")]
    private static partial void LogRetry(ILogger logger, Exception exception, int attempt);
}

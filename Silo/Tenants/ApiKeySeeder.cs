using PatientConnect.Tenants;

namespace PatientConnect.Silo.Tenants;

/// <summary>
/// Assigns the configured API keys to their tenants once the silo is active:
/// <c>PatientConnect:Tenants:N:Id</c> with <c>PatientConnect:Tenants:N:ApiKeys:M</c>, and
/// <c>PATIENTCONNECT_DEV_API_KEY</c> for tenant <c>dev</c>. Only the key's hash reaches a grain;
/// the key itself is never logged or stored. Every silo seeds; assigning again is harmless.
/// </summary>
public sealed partial class ApiKeySeeder(IGrainFactory grains, IConfiguration configuration, ILogger<ApiKeySeeder> logger)
    : IHostedService
{
    public const string DevTenantId = "dev";
    public const string DevKeyVariable = "PATIENTCONNECT_DEV_API_KEY";

    public static IReadOnlyList<(string TenantId, string ApiKey)> ReadKeys(IConfiguration configuration)
    {
        var keys = new List<(string, string)>();
        foreach (var tenant in configuration.GetSection("PatientConnect:Tenants").GetChildren())
        {
            var tenantKeys = tenant.GetSection("ApiKeys").GetChildren()
                .Select(k => k.Value)
                .Where(k => !string.IsNullOrWhiteSpace(k))
                .Select(k => k!.Trim())
                .ToList();
            var id = tenant["Id"]?.Trim();
            if (string.IsNullOrEmpty(id))
            {
                if (tenantKeys.Count > 0)
                {
                    throw new InvalidOperationException(
                        $"PatientConnect:Tenants:{tenant.Key} has API keys but no Id.");
                }

                continue;
            }

            keys.AddRange(tenantKeys.Select(k => (id, k)));
        }

        var devKey = configuration[DevKeyVariable];
        if (!string.IsNullOrWhiteSpace(devKey))
        {
            keys.Add((DevTenantId, devKey.Trim()));
        }

        var clash = keys.GroupBy(k => k.Item2).FirstOrDefault(g => g.Select(k => k.Item1).Distinct().Count() > 1);
        if (clash is not null)
        {
            throw new InvalidOperationException(
                $"One API key is configured for several tenants ({string.Join(", ", clash.Select(k => k.Item1).Distinct())}).");
        }

        return keys.Distinct().ToList();
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var keys = ReadKeys(configuration);
        foreach (var (tenantId, apiKey) in keys)
        {
            var hash = ApiKeys.Hash(apiKey);
            await AssignWithRetryAsync(hash, tenantId, cancellationToken);
            // The first hex digits identify the key for an operator without revealing it.
            LogSeeded(tenantId, hash[..8]);
        }

        LogDone(keys.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task AssignWithRetryAsync(string hash, string tenantId, CancellationToken cancellationToken)
    {
        const int attempts = 5;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await grains.GetGrain<IApiKeyGrain>(hash).Assign(tenantId);
                return;
            }
            catch (Exception e) when (attempt < attempts && e is not OperationCanceledException)
            {
                // Right after start the cluster may still be settling (a peer just died, storage blip).
                LogRetry(e, tenantId, attempt);
                await Task.Delay(TimeSpan.FromSeconds(attempt), cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {KeyHashPrefix}… assigned to tenant {TenantId}")]
    private partial void LogSeeded(string tenantId, string keyHashPrefix);

    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded {Count} API key(s) from configuration")]
    private partial void LogDone(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Assigning an API key to tenant {TenantId} failed (attempt {Attempt}); retrying")]
    private partial void LogRetry(Exception e, string tenantId, int attempt);
}

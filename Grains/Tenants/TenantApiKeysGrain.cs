using Microsoft.Extensions.Logging;
using PatientConnect.Tenants;

namespace PatientConnect.Grains.Tenants;

[GenerateSerializer, Alias("pc.TenantApiKeysState")]
public sealed class TenantApiKeysState
{
    [Id(0)] public List<TenantApiKey> Keys { get; set; } = [];
}

/// <summary>One key of a tenant as stored: its hash (never the key), the prefix shown to recognise it.</summary>
[GenerateSerializer, Alias("pc.TenantApiKey")]
public sealed class TenantApiKey
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public string Hash { get; set; } = "";
    [Id(2)] public string Prefix { get; set; } = "";
    [Id(3)] public string? Name { get; set; }
    [Id(4)] public DateTimeOffset CreatedAt { get; set; }
    [Id(5)] public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>
/// A tenant's API keys created at run time (key: tenant id). The key is made here, shown once, and
/// only its SHA-256 is kept: here for the list and in the key's <see cref="IApiKeyGrain"/>, which
/// answers every look-up, so revoking it there takes effect for every Api instance at its next look-up.
/// </summary>
public sealed class TenantApiKeysGrain(
    [PersistentState("tenantapikeys", "store")] IPersistentState<TenantApiKeysState> state,
    TimeProvider timeProvider,
    ILogger<TenantApiKeysGrain> logger) : Grain, ITenantApiKeysGrain
{
    public const string KeyPrefix = "pc_live_";
    private const int PrefixLength = 12;

    private string TenantId => this.GetPrimaryKeyString();

    public async Task<CreatedApiKey> Create(string? name)
    {
        if (string.IsNullOrWhiteSpace(TenantId) || TenantId.Contains('/'))
            throw new ArgumentException("A tenant id is non-empty and has no '/'.", "tenant_id");
        // 160 random bits, like every id here; the prefix lets an operator tell keys apart without the secret.
        var secret = KeyPrefix + Ids.RandomToken(20);
        var key = new TenantApiKey
        {
            Id = "key_" + Ids.RandomToken(10),
            Hash = ApiKeys.Hash(secret),
            Prefix = secret[..PrefixLength],
            Name = string.IsNullOrWhiteSpace(name) ? null : name.Trim(),
            CreatedAt = timeProvider.GetUtcNow(),
        };
        // The look-up grain first: a key listed here always works; a crash in between leaves a working
        // key nobody was shown, which is harmless.
        await GrainFactory.GetGrain<IApiKeyGrain>(key.Hash).Assign(TenantId);
        state.State.Keys.Add(key);
        await state.WriteStateAsync();
        logger.LogInformation("Tenant {TenantId}: API key {KeyId} ({Prefix}…) created", TenantId, key.Id, key.Prefix);
        return new CreatedApiKey(View(key), secret);
    }

    public Task<IReadOnlyList<ApiKeyView>> List() =>
        Task.FromResult<IReadOnlyList<ApiKeyView>>(state.State.Keys.OrderBy(k => k.CreatedAt).Select(View).ToList());

    public async Task<bool> Revoke(string keyId)
    {
        var key = state.State.Keys.FirstOrDefault(k => k.Id == keyId);
        if (key is null) return false;
        await GrainFactory.GetGrain<IApiKeyGrain>(key.Hash).Revoke();
        if (key.RevokedAt is null)
        {
            key.RevokedAt = timeProvider.GetUtcNow();
            await state.WriteStateAsync();
            logger.LogInformation("Tenant {TenantId}: API key {KeyId} revoked", TenantId, key.Id);
        }
        return true;
    }

    private static ApiKeyView View(TenantApiKey k) => new(k.Id, k.Prefix, k.Name, k.CreatedAt, k.RevokedAt);
}

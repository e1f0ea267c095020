using PatientConnect.Tenants;

namespace PatientConnect.Grains.Tenants;

[GenerateSerializer, Alias("pc.ApiKeyState")]
public sealed class ApiKeyState
{
    [Id(0)] public string? TenantId { get; set; }
    [Id(1)] public DateTimeOffset? AssignedAt { get; set; }
    [Id(2)] public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>
/// One API key, keyed by its SHA-256: the key itself never reaches storage, so a leaked table gives
/// no usable credential.
/// </summary>
public sealed class ApiKeyGrain(
    [PersistentState("apikey", "store")] IPersistentState<ApiKeyState> state,
    TimeProvider timeProvider) : Grain, IApiKeyGrain
{
    public Task<string?> GetTenant() => Task.FromResult(state.State.RevokedAt is null ? state.State.TenantId : null);

    public async Task Revoke()
    {
        if (state.State.RevokedAt is not null) return;
        state.State.RevokedAt = timeProvider.GetUtcNow();
        await state.WriteStateAsync();
    }

    public async Task Assign(string tenantId)
    {
        if (string.IsNullOrWhiteSpace(tenantId) || tenantId.Contains('/'))
        {
            throw new ArgumentException("A tenant id is non-empty and has no '/' (it is part of patient grain keys).", nameof(tenantId));
        }
        // Seeding runs at every silo start: an unchanged assignment writes nothing, and a key an
        // operator revoked stays revoked even while it is still listed in configuration.
        if (state.State.TenantId == tenantId || state.State.RevokedAt is not null) return;
        state.State.TenantId = tenantId;
        state.State.AssignedAt = timeProvider.GetUtcNow();
        await state.WriteStateAsync();
    }
}

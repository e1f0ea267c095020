namespace PatientConnect.Tenants;

/// <summary>
/// A tenant's API keys as data (key: tenant id): created through the admin API (the key is shown once),
/// listed by their visible prefix, revoked. Each key's hash also keys its <see cref="IApiKeyGrain"/>,
/// which the Api asks on every look-up, so a revocation holds everywhere at once.
/// </summary>
[Alias("pc.ITenantApiKeysGrain")]
public interface ITenantApiKeysGrain : IGrainWithStringKey
{
    [Alias("Create")] Task<CreatedApiKey> Create(string? name);

    [ReadOnly, Alias("List")] Task<IReadOnlyList<ApiKeyView>> List();

    /// <summary>False when the key is unknown (or another tenant's); revoking twice is harmless.</summary>
    [Alias("Revoke")] Task<bool> Revoke(string keyId);
}

[GenerateSerializer, Immutable, Alias("pc.ApiKeyView")]
public sealed record ApiKeyView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Prefix,
    [property: Id(2)] string? Name,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset? RevokedAt);

/// <summary>The one answer that carries the key itself.</summary>
[GenerateSerializer, Immutable, Alias("pc.CreatedApiKey")]
public sealed record CreatedApiKey(
    [property: Id(0)] ApiKeyView Key,
    [property: Id(1)] string Secret)
{
    public override string ToString() => $"CreatedApiKey {{ Id = {Key.Id}, Prefix = {Key.Prefix} }}";
}

namespace PatientConnect.Tenants;

/// <summary>
/// An API key, keyed by the lowercase hex SHA-256 of the key: the key itself is never stored.
/// Seeded from configuration at silo start.
/// </summary>
[Alias("pc.IApiKeyGrain")]
public interface IApiKeyGrain : IGrainWithStringKey
{
    /// <summary>The tenant that owns this key, or null for an unknown or revoked key.</summary>
    [ReadOnly, Alias("GetTenant"), Retryable, ResponseTimeout("00:00:03")] Task<string?> GetTenant();

    [Alias("Assign"), Retryable] Task Assign(string tenantId);

    /// <summary>The key stops working (a revoked key is never assigned again by seeding).</summary>
    [Alias("Revoke"), Retryable] Task Revoke();
}

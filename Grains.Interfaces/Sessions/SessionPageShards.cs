namespace PatientConnect.Sessions;

/// <summary>
/// Which <see cref="ISessionPageCacheGrain"/> holds a patient's list pages. The Api (reading) and the
/// silos (invalidating after a write) must agree, so the hash is FNV-1a over the key's characters, the
/// same in every process (string.GetHashCode is randomized per process).
/// </summary>
/// <remarks>
/// Changing <see cref="Count"/> while processes with the old value still serve lists sends their reads
/// and the new processes' invalidations to different grains: restart the whole cluster, or accept pages
/// up to the cache's time limit old during the roll.
/// </remarks>
public static class SessionPageShards
{
    /// <summary>Enough to spread a busy cluster's lists over several activations, few enough that each stays active.</summary>
    public const int Count = 16;

    public static int Of(string tenantId, string patientId)
    {
        var hash = 2166136261u;
        foreach (var c in tenantId) hash = (hash ^ c) * 16777619u;
        // Only where the pages live: inside a shard they are keyed by (tenant, patient), so keys that share a shard never mix.
        hash = (hash ^ '/') * 16777619u;
        foreach (var c in patientId) hash = (hash ^ c) * 16777619u;
        return (int)(hash % Count);
    }
}

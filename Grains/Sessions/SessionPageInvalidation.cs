using Microsoft.Extensions.Logging;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// Tells the list page cache (<see cref="ISessionPageCacheGrain"/>) that a patient's session rows changed.
/// Called after the commit and awaited before the writer acknowledges: an app that got its answer and
/// then lists sees the change.
/// </summary>
public sealed class SessionPageInvalidation(IGrainFactory grains, ILogger<SessionPageInvalidation> logger)
{
    /// <summary>The patient's pages are dropped; throws when the cache could not be told.</summary>
    public Task PatientAsync(string tenantId, string patientId) =>
        grains.GetGrain<ISessionPageCacheGrain>(SessionPageShards.Of(tenantId, patientId)).Invalidate(tenantId, patientId);

    /// <summary>
    /// As <see cref="PatientAsync"/>, for a write that is committed and must not be reported as failed: a
    /// failure is logged. The cache's time limit bounds what it can leave stale (when the shard's silo is
    /// gone its pages are gone too; when the call timed out, the shard still takes it when it gets to it).
    /// </summary>
    public async Task AfterCommitAsync(string tenantId, string patientId)
    {
        try
        {
            await PatientAsync(tenantId, patientId);
        }
        catch (Exception e)
        {
            logger.LogWarning("The session list cache could not be told of a write ({Kind}); its pages age out within {TimeToLive}",
                e.GetType().Name, SessionPageCacheGrain.TimeToLive);
        }
    }

    /// <summary>Every shard drops every page (a delete across patients); throws when a shard could not be told.</summary>
    public Task AllAsync() =>
        Task.WhenAll(Enumerable.Range(0, SessionPageShards.Count).Select(shard => grains.GetGrain<ISessionPageCacheGrain>(shard).InvalidateAll()));
}

using Microsoft.Extensions.Options;
using PatientConnect.Common;
using PatientConnect.Grains.Common;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// Serves patients' list pages from memory (<see cref="SessionPageCache"/>) and reads the rows only for a
/// page it does not hold or no longer trusts. Coherent with every write: the session store invalidates
/// after each commit and before the writer acknowledges (<see cref="PageInvalidatingSessionStore"/>), as do
/// erasure and retention (<see cref="SessionPageInvalidation"/>).
/// </summary>
/// <remarks>
/// Reentrant: a read of the rows must not hold up the shard's other patients; the cache's generations keep
/// a read that overlapped an invalidation from storing what it read. Turns still run one at a time, so the
/// cache itself needs no lock.
/// Bounds: <see cref="TimeToLive"/> is the longest a page is served after its read, and so the longest
/// a missed invalidation (a silo lost between a commit and its call here) can leave a page stale; at most
/// <see cref="PagesPerPatient"/> pages per patient and <see cref="MaxBytes"/> of JSON per shard
/// (<see cref="SessionPageShards.Count"/> shards: 32 MB for the cluster), the oldest dropped first.
/// </remarks>
[Reentrant]
public sealed class SessionPageCacheGrain(ISessionIndex index, IOptions<PatientConnectOptions> options, TimeProvider time)
    : Grain, ISessionPageCacheGrain
{
    public static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(5);
    public const int PagesPerPatient = 8;
    public const long MaxBytes = 2 * 1024 * 1024;

    private readonly SessionPageCache cache = new(PagesPerPatient, MaxBytes, TimeToLive);

    public async Task<SessionPageJson> Page(string tenantId, string patientId, SessionListQuery query)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(patientId);
        var now = time.GetUtcNow();
        var patient = new SessionPageCache.PatientKey(tenantId, patientId);
        // The cursor as sent: one that is not the list's never gets a page kept (Filter refuses it below).
        var key = new SessionPageCache.PageKey(query.Status, Cursors.Clamp(query.Limit), query.Cursor);
        if (cache.TryGet(patient, key, now, out var cached)) return cached;

        var (filter, limit) = SessionPages.Filter(tenantId, patientId, query, now);
        var read = cache.BeginRead(patient);
        SessionPageJson? page = null;
        DateTimeOffset? changesAt = null;
        try
        {
            (page, changesAt) = await SessionPages.ReadJsonAsync(index, filter, limit, options.Value);
            return page;
        }
        finally
        {
            cache.EndRead(read, key, page, now, changesAt);
        }
    }

    public Task Invalidate(string tenantId, string patientId)
    {
        cache.Invalidate(new SessionPageCache.PatientKey(tenantId, patientId));
        return Task.CompletedTask;
    }

    public Task InvalidateAll()
    {
        cache.InvalidateAll();
        return Task.CompletedTask;
    }
}

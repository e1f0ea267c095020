using Microsoft.Extensions.Options;
using PatientConnect.Common;
using PatientConnect.Grains.Common;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// Pages of a patient's sessions as views, from the session rows (<see cref="ISessionIndex"/>), keyset by
/// (created_at, id), read every time (the patient grain's list). The Api lists the contract's JSON through
/// <see cref="SessionPageCacheGrain"/>.
/// </summary>
/// <remarks>Reentrant for the same reason as <see cref="SessionOpenerGrain"/>: no state, and a query's wait is not a reason to queue the next.</remarks>
[StatelessWorker, Reentrant]
public sealed class PatientSessionListGrain(ISessionIndex index, IOptions<PatientConnectOptions> options, TimeProvider time)
    : Grain, IPatientSessionListGrain
{
    public async Task<Page<SessionView>> List(string tenantId, string patientId, SessionListQuery query)
    {
        var (filter, limit) = SessionPages.Filter(tenantId, patientId, query, time.GetUtcNow());
        var rows = await index.ListAsync(filter);
        var page = rows.Take(limit).ToList();
        var next = rows.Count > limit ? page[^1].Key.ToCursor() : null;
        return new Page<SessionView>(page.Select(r => SessionViews.From(r.Id, r.State, options.Value, filter.Now)).ToArray(), next);
    }
}

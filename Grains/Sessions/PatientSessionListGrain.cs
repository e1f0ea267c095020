using Microsoft.Extensions.Options;
using PatientConnect.Common;
using PatientConnect.Grains.Common;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// Pages of a patient's sessions from the session rows (<see cref="ISessionIndex"/>), keyset by (created_at, id),
/// read every time. The Api lists through <see cref="SessionPageCacheGrain"/>, which reads the same way on a miss.
/// </summary>
/// <remarks>Reentrant for the same reason as <see cref="SessionOpenerGrain"/>: no state, and a query's wait is not a reason to queue the next.</remarks>
[StatelessWorker, Reentrant]
public sealed class PatientSessionListGrain(ISessionIndex index, IOptions<PatientConnectOptions> options, TimeProvider time)
    : Grain, IPatientSessionListGrain
{
    public async Task<Page<SessionView>> List(string tenantId, string patientId, SessionListQuery query)
    {
        var (filter, limit) = Filter(tenantId, patientId, query);
        var rows = await index.ListAsync(filter);
        var page = rows.Take(limit).ToList();
        var next = rows.Count > limit ? page[^1].Key.ToCursor() : null;
        return new Page<SessionView>(page.Select(r => SessionViews.From(r.Id, r.State, options.Value, filter.Now)).ToArray(), next);
    }

    public async Task<SessionPageJson> ListJson(string tenantId, string patientId, SessionListQuery query)
    {
        var (filter, limit) = Filter(tenantId, patientId, query);
        return (await SessionPages.ReadJsonAsync(index, filter, limit, options.Value)).Page;
    }

    private (SessionListFilter Filter, int Limit) Filter(string tenantId, string patientId, SessionListQuery query) =>
        SessionPages.Filter(tenantId, patientId, query, time.GetUtcNow());
}

using PatientConnect.Common;
using PatientConnect.Grains.Common;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>A page of a patient's sessions read from the rows: shared by the uncached list and the page cache.</summary>
public static class SessionPages
{
    /// <summary>The query as the rows are read for it; a cursor not issued by the list throws (field "cursor").</summary>
    public static (SessionListFilter Filter, int Limit) Filter(string tenantId, string patientId, SessionListQuery query, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(patientId);
        var limit = Cursors.Clamp(query.Limit);
        SessionKey? after = string.IsNullOrEmpty(query.Cursor) ? null : SessionKey.FromCursor(query.Cursor);
        // One more than the page: whether a next page exists without a second query.
        return (new SessionListFilter(tenantId, patientId, query.Status, now, after, limit + 1), limit);
    }

    /// <summary>
    /// The page's contract JSON, and the first moment after <see cref="SessionListFilter.Now"/> at which the
    /// same rows would be written differently by the clock alone (null: never, only a write changes it).
    /// </summary>
    /// <remarks>
    /// That moment is the earliest expires_at of an open session among the rows read, the one past the page
    /// included (it decides whether there is a next page, and with status=open it leaves the list when it
    /// expires). With status=expired an open session that is not on the page joins it when it expires, which
    /// these rows cannot tell: such a page is never the same past its own moment.
    /// </remarks>
    public static async Task<(SessionPageJson Page, DateTimeOffset? ClockChangesAt)> ReadJsonAsync(
        ISessionIndex index, SessionListFilter filter, int limit, PatientConnectOptions options)
    {
        var rows = await index.ListJsonAsync(filter);
        var page = rows.Count > limit ? rows.Take(limit).ToList() : rows;
        var next = rows.Count > limit ? page[^1].Key.ToCursor() : null;
        DateTimeOffset? changesAt = filter.Status == SessionStatus.Expired ? filter.Now : null;
        foreach (var row in rows)
        {
            if (row.Status == SessionStatus.Open && row.ExpiresAt > filter.Now && (changesAt is null || row.ExpiresAt < changesAt))
            {
                changesAt = row.ExpiresAt;
            }
        }
        return (new SessionPageJson(SessionListJson.Page(page, filter.PatientId, next, options, filter.Now), page.Count), changesAt);
    }
}

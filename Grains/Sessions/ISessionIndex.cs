using PatientConnect.Common;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// What the session rows answer besides one grain's state: a patient's sessions in keyset order and the
/// sessions that are due. Implemented by the storage the session grains write to, so both are derived
/// from the one write a session makes (Postgres in the silo, memory in the in-process test cluster).
/// </summary>
public interface ISessionIndex
{
    /// <summary>
    /// Stores a new session as its first version, or, when its id is stored already (a retried create),
    /// leaves that one alone: the state stored under the id afterwards.
    /// </summary>
    Task<PatientSessionState> InsertAsync(string sessionId, PatientSessionState state);

    /// <summary>A page of one tenant's patient's sessions, newest first, after <see cref="SessionListFilter.After"/>.</summary>
    Task<IReadOnlyList<StoredSession>> ListAsync(SessionListFilter filter);

    /// <summary>
    /// The same page as <see cref="ListAsync"/>, read for the list's JSON: each row's status, expiry and stored
    /// JSON tail (<see cref="SessionListJson.Tail"/>) instead of its whole state.
    /// </summary>
    Task<IReadOnlyList<ListedSession>> ListJsonAsync(SessionListFilter filter);

    /// <summary>
    /// Up to <paramref name="limit"/> sessions due at <paramref name="now"/>, each claimed until
    /// <paramref name="retryAt"/> (another silo skips it meanwhile); the grain's next write sets its real due time.
    /// </summary>
    Task<IReadOnlyList<string>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset retryAt, int limit);
}

/// <summary>A stored session with its list position (the created_at as stored, which the cursor carries).</summary>
public sealed record StoredSession(string Id, SessionKey Key, PatientSessionState State);

public sealed record SessionListFilter(
    string TenantId, string PatientId, SessionStatus? Status, DateTimeOffset Now, SessionKey? After, int Take);

/// <summary>A position in a patient's newest-first list: (created_at, session id), compared in that order.</summary>
public readonly record struct SessionKey(DateTimeOffset CreatedAt, string Id)
{
    public string ToCursor() => Common.Cursors.Encode($"{CreatedAt.UtcTicks}:{Id}");

    /// <summary>Throws <see cref="InvalidFieldException"/> (field "cursor") when the cursor is not one a list issued.</summary>
    public static SessionKey FromCursor(string cursor)
    {
        var text = Common.Cursors.Decode(cursor);
        var colon = text.IndexOf(':');
        if (colon > 0 && long.TryParse(text.AsSpan(0, colon), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var ticks)
            && ticks is >= 0 and <= 3155378975999999999 && Ids.IsValid(text[(colon + 1)..], Ids.SessionPrefix))
        {
            return new SessionKey(new DateTimeOffset(ticks, TimeSpan.Zero), text[(colon + 1)..]);
        }
        throw InvalidFieldException.CursorNotIssued();
    }

    /// <summary>Newest first: true when this key comes after <paramref name="other"/> in the list.</summary>
    public bool IsAfter(SessionKey other) =>
        CreatedAt < other.CreatedAt || (CreatedAt == other.CreatedAt && string.CompareOrdinal(Id, other.Id) < 0);
}

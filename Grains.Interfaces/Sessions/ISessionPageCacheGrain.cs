namespace PatientConnect.Sessions;

/// <summary>
/// Recently served pages of patients' session lists, in memory, for one shard of the patients
/// (key: <see cref="SessionPageShards.Of"/>). A list is answered from here without a database round trip
/// while nothing changed: every writer of a patient's session rows calls <see cref="Invalidate"/> after
/// its commit and before it acknowledges, and a page also stops being served when an open session on it
/// reaches expires_at (the status is the clock's) and after a few seconds at most (a missed invalidation,
/// e.g. from a silo that died between commit and call, cannot keep a page stale for longer).
/// </summary>
/// <remarks>
/// Sharded rather than one grain per patient: a create invalidates its patient's pages, and a grain per
/// patient would be activated by nearly every create (a new patient's first session) only to find
/// nothing cached; a shard stays active and an invalidation of a patient it holds nothing for is a
/// dictionary miss.
/// </remarks>
[Alias("pc.ISessionPageCacheGrain")]
public interface ISessionPageCacheGrain : IGrainWithIntegerKey
{
    /// <summary>One page of the patient's list as the contract's JSON, from memory when it can be; a cursor not issued by the list is an ArgumentException naming "cursor".</summary>
    [Alias("Page"), Retryable, ResponseTimeout("00:00:05")]
    Task<SessionPageJson> Page(string tenantId, string patientId, SessionListQuery query);

    /// <summary>Forgets the patient's pages; a list read that began before this call is not kept either.</summary>
    [Alias("Invalidate"), Retryable, ResponseTimeout("00:00:05")]
    Task Invalidate(string tenantId, string patientId);

    /// <summary>Forgets every page of the shard (a bulk delete across patients, e.g. retention).</summary>
    [Alias("InvalidateAll"), Retryable, ResponseTimeout("00:00:05")]
    Task InvalidateAll();
}

namespace PatientConnect.Connections;

/// <summary>One patient's authorized link to one source, keyed by its conn_ id.</summary>
[Alias("pc.IConnectionGrain")]
public interface IConnectionGrain : IGrainWithStringKey
{
    /// <summary>Stores the new tokens (encrypted) and sets the connection active; reconnects in place.</summary>
    [Alias("Activate"), Retryable] Task<ConnectionView> Activate(ConnectionBinding binding, TokenGrant grant);

    /// <summary>Records a failed attempt after approval (token endpoint or EHR error).</summary>
    [Alias("Fail"), Retryable] Task<ConnectionView> Fail(ConnectionBinding binding, string failureCode, string failureDescription);

    /// <summary>The connection, or null when it does not exist or belongs to another tenant.</summary>
    [ReadOnly, Alias("Get"), Retryable, ResponseTimeout("00:00:03")] Task<ConnectionView?> Get(string tenantId);

    /// <summary>
    /// A live access token for the sync, refreshed first when it is about to lapse; null when the
    /// connection is not active (the caller stops and reports why).
    /// </summary>
    [Alias("GetAccess"), Retryable] Task<AccessLease?> GetAccess();

    /// <summary>
    /// The EHR answered 401 to <paramref name="rejectedAccessToken"/>: refresh once (unless a newer
    /// token already replaced it) and return the new lease, or null when refresh is impossible.
    /// </summary>
    [Alias("RefreshAfterRejected"), Retryable] Task<AccessLease?> RefreshAfterRejected(string rejectedAccessToken);

    /// <summary>
    /// The refresh scheduler's wake: the connection's planned refresh is due. Refreshes (or re-aims the
    /// plan when woken early); a connection no longer active leaves the schedule.
    /// </summary>
    [Alias("RefreshDue")] Task RefreshDue();

    /// <summary>Re-encrypts the stored tokens under the newest token key; false when they already were (or there are none).</summary>
    [Alias("ReencryptTokens")] Task<bool> ReencryptTokens();

    /// <summary>Revokes at the source where possible, forgets tokens, stops reminders, sets disconnected.</summary>
    [Alias("Disconnect")] Task<ConnectionView?> Disconnect(string tenantId, bool deleteRecords);

    /// <summary>
    /// POST /v1/connections/{id}/sync: starts a sync now. Refused as NotFound when missing or foreign,
    /// as Conflict (connection_not_active) when the connection is not active.
    /// </summary>
    [Alias("RequestSync")] Task<Common.Outcome<ConnectionView>> RequestSync(string tenantId);

    /// <summary>Progress from the sync grain, shown in the connection's sync object (and its events).</summary>
    [Alias("ReportSync"), AlwaysInterleave] Task ReportSync(SyncView sync);

    /// <summary>
    /// Right to delete (the patient's erasure job): revokes at the source, stops reminders and the sync,
    /// and deletes this grain's state without an event. Records are the job's to delete.
    /// </summary>
    [Alias("Erase")] Task<PatientConnect.Erasure.ConnectionErasure> Erase(string tenantId);
}

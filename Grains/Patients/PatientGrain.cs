using Microsoft.Extensions.Options;
using PatientConnect.Common;
using PatientConnect.Connections;
using PatientConnect.Grains.Common;
using PatientConnect.Grains.Sessions;
using PatientConnect.Grains.Sources;
using PatientConnect.Patients;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Patients;

[GenerateSerializer, Alias("pc.PatientState")]
public sealed class PatientState
{
    [Id(0)] public DateTimeOffset? CreatedAt { get; set; }
    // Id 1 held the patient's session list, rewritten whole on every create; the list is now the
    // session rows' own keyset (pc_patient_sessions), and a stored "Sessions" property is ignored.
    /// <summary>Source id → connection id: one connection per source, reused on reconnect.</summary>
    [Id(2)] public Dictionary<string, string> ConnectionsBySource { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// One patient of one tenant (key "tenant/patientId"): its connection per source, so a reconnect reuses
/// it and listing connections never scans. Its sessions are not here: each session row carries its
/// patient, and the list is their keyset (<see cref="IPatientSessionListGrain"/>).
/// </summary>
public sealed class PatientGrain(
    [PersistentState("patient", "store")] IPersistentState<PatientState> state,
    ISessionIndex sessions,
    TimeProvider timeProvider) : Grain, IPatientGrain
{
    // Once a session is seen the patient exists until it is erased (Erase deactivates this grain); a
    // "no" is never remembered, since a session can be opened without this grain hearing of it.
    private bool _exists;

    private string TenantId => KeyParts().Tenant;
    private string PatientId => KeyParts().Patient;

    /// <summary>The session opener checks and stores it (the Api calls the opener directly; this is for other callers).</summary>
    public Task<CreateSessionResult> CreateSession(CreateSession request)
    {
        if (request.TenantId != TenantId || request.PatientId != PatientId)
        {
            throw new ArgumentException("The request's tenant and patient must match the patient grain it is sent to.");
        }
        var sessionId = request.SessionId ?? Ids.NewSessionId();
        if (!Ids.IsValid(sessionId, Ids.SessionPrefix)) throw new ArgumentException("The session id is not a ps_ id.", nameof(request));
        return GrainFactory.GetGrain<ISessionOpenerGrain>(0).Open(request with { SessionId = sessionId });
    }

    public Task<Page<SessionView>> ListSessions(SessionListQuery query) =>
        GrainFactory.GetGrain<IPatientSessionListGrain>(0).List(TenantId, PatientId, query);

    public async Task<IReadOnlyList<ConnectionView>> ListConnections()
    {
        var tenant = TenantId;
        var views = await Task.WhenAll(state.State.ConnectionsBySource.Values
            .Select(id => GrainFactory.GetGrain<IConnectionGrain>(id).Get(tenant)));
        // An id handed out whose connection never got written (crash between the two) is skipped.
        return views.OfType<ConnectionView>()
            .OrderByDescending(c => c.CreatedAt)
            .ThenBy(c => c.Id, StringComparer.Ordinal)
            .ToArray();
    }

    public async Task<string> GetOrAddConnectionId(string sourceId)
    {
        if (state.State.ConnectionsBySource.TryGetValue(sourceId, out var existing)) return existing;
        var id = Ids.NewConnectionId();
        state.State.ConnectionsBySource[sourceId] = id;
        state.State.CreatedAt ??= timeProvider.GetUtcNow();
        await state.WriteStateAsync();
        return id;
    }

    /// <summary>A patient exists from its first session (CONTRACT.md): one row of the session index.</summary>
    public async Task<bool> Exists()
    {
        if (_exists) return true;
        var first = await sessions.ListAsync(new SessionListFilter(TenantId, PatientId, null, timeProvider.GetUtcNow(), null, 1));
        return _exists = first.Count > 0;
    }

    /// <summary>Right to delete: every session id of the patient (paged through the index) and its connections.</summary>
    public async Task<PatientConnect.Erasure.PatientFootprint> ErasureTargets()
    {
        var ids = new List<string>();
        SessionKey? after = null;
        while (true)
        {
            var page = await sessions.ListAsync(new SessionListFilter(TenantId, PatientId, null, timeProvider.GetUtcNow(), after, 1000));
            ids.AddRange(page.Select(p => p.Id));
            if (page.Count < 1000) break;
            after = page[^1].Key;
        }
        return new PatientConnect.Erasure.PatientFootprint(
            ids.ToArray(), state.State.ConnectionsBySource.Values.Distinct(StringComparer.Ordinal).ToArray());
    }

    /// <summary>Right to delete: the patient's own state goes (its session rows are erased by the job).</summary>
    public async Task Erase()
    {
        await state.ClearStateAsync();
        state.State = new PatientState();
        _exists = false;
        DeactivateOnIdle();
    }

    private (string Tenant, string Patient) KeyParts()
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/');
        if (slash <= 0 || slash == key.Length - 1) throw new InvalidOperationException($"Patient grain key '{key}' is not 'tenant/patientId'.");
        return (key[..slash], key[(slash + 1)..]);
    }
}

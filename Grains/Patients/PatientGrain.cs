using Microsoft.Extensions.Options;
using PatientConnect.Common;
using PatientConnect.Connections;
using PatientConnect.Grains.Common;
using PatientConnect.Grains.Sources;
using PatientConnect.Patients;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Patients;

[GenerateSerializer, Alias("pc.PatientSessionEntry")]
public sealed class PatientSessionEntry
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public SessionStatus Status { get; set; }
    [Id(2)] public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Kept so a list can tell an open session is past its time even before its reminder fired.</summary>
    [Id(3)] public DateTimeOffset ExpiresAt { get; set; }
}

[GenerateSerializer, Alias("pc.PatientState")]
public sealed class PatientState
{
    [Id(0)] public DateTimeOffset? CreatedAt { get; set; }
    /// <summary>Newest first.</summary>
    [Id(1)] public List<PatientSessionEntry> Sessions { get; set; } = [];
    /// <summary>Source id → connection id: one connection per source, reused on reconnect.</summary>
    [Id(2)] public Dictionary<string, string> ConnectionsBySource { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// One patient of one tenant (key "tenant/patientId"). It exists from its first session; it holds the
/// index the lists need (sessions with their status, connections by source) so listing never scans.
/// </summary>
public sealed class PatientGrain(
    [PersistentState("patient", "store")] IPersistentState<PatientState> state,
    SourceCatalog catalog,
    IOptions<PatientConnectOptions> options,
    TimeProvider timeProvider) : Grain, IPatientGrain
{
    public static readonly TimeSpan MinExpiresIn = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan MaxExpiresIn = TimeSpan.FromSeconds(86400);
    public const int MaxRecommendedSources = 20;

    private string TenantId => KeyParts().Tenant;
    private string PatientId => KeyParts().Patient;

    public async Task<CreateSessionResult> CreateSession(CreateSession request)
    {
        if (request.TenantId != TenantId || request.PatientId != PatientId)
        {
            throw new ArgumentException("The request's tenant and patient must match the patient grain it is sent to.");
        }
        // The Api checks this too; the session redirects here with its outcome, so the grain refuses an
        // open redirect even from a caller that skipped the Api.
        if (!IsAllowedReturnUrl(request.ReturnUrl, options.Value.AllowLoopbackHttp))
        {
            return Invalid("return_url", "return_url must be an absolute https URL (http only for loopback hosts when allowed).");
        }
        if (request.ExpiresIn < MinExpiresIn || request.ExpiresIn > MaxExpiresIn)
        {
            return Invalid("expires_in", "expires_in must be between 60 and 86400 seconds.");
        }
        if (request.SourceId is not null)
        {
            var source = catalog.Find(request.SourceId);
            if (source is null) return Invalid("source_id", $"No source '{request.SourceId}' exists in the directory.");
            if (!source.Connectable)
            {
                return Invalid("source_id", $"Source '{request.SourceId}' ({source.View.Name}) is listed but cannot be connected yet.");
            }
        }
        if (request.RecommendedSourceIds.Count > MaxRecommendedSources)
        {
            return Invalid("recommended_source_ids", $"At most {MaxRecommendedSources} recommended sources are accepted.");
        }
        foreach (var id in request.RecommendedSourceIds)
        {
            if (catalog.Find(id) is null) return Invalid("recommended_source_ids", $"No source '{id}' exists in the directory.");
        }

        var sessionId = request.SessionId ?? Ids.NewSessionId();
        if (!Ids.IsValid(sessionId, Ids.SessionPrefix)) throw new ArgumentException("The session id is not a ps_ id.", nameof(request));

        // Listed first, created second: a failure in between leaves an id without a session, which
        // lists skip, rather than a session the Api answered 503 for. A retry of this call (same
        // session id) finds the entry and goes on to the session, which is created once.
        var entry = state.State.Sessions.Find(e => e.Id == sessionId);
        if (entry is null)
        {
            var createdAt = timeProvider.GetUtcNow();
            entry = new PatientSessionEntry
            {
                Id = sessionId,
                Status = SessionStatus.Open,
                CreatedAt = createdAt,
                ExpiresAt = createdAt + request.ExpiresIn,
            };
            state.State.CreatedAt ??= createdAt;
            state.State.Sessions.Insert(0, entry);
            await state.WriteStateAsync();
        }
        var view = await GrainFactory.GetGrain<IPatientSessionGrain>(sessionId)
            .Create(request with { SessionId = sessionId, CreatedAt = entry.CreatedAt });
        return new CreateSessionResult(view, null, null);
    }

    public async Task<Page<SessionView>> ListSessions(SessionListQuery query)
    {
        var limit = Cursors.Clamp(query.Limit);
        var sessions = state.State.Sessions;
        var start = 0;
        if (!string.IsNullOrEmpty(query.Cursor))
        {
            var lastId = Cursors.Decode(query.Cursor);
            var index = sessions.FindIndex(e => e.Id == lastId);
            if (index < 0) throw PatientConnect.Common.InvalidFieldException.CursorNotIssued();
            start = index + 1;
        }

        var now = timeProvider.GetUtcNow();
        var picked = new List<PatientSessionEntry>(limit);
        string? next = null;
        for (var i = start; i < sessions.Count; i++)
        {
            var entry = sessions[i];
            if (query.Status is { } wanted && EffectiveStatus(entry, now) != wanted) continue;
            if (picked.Count == limit)
            {
                next = Cursors.Encode(picked[^1].Id);
                break;
            }
            picked.Add(entry);
        }

        var tenant = TenantId;
        var views = await Task.WhenAll(picked.Select(e => GrainFactory.GetGrain<IPatientSessionGrain>(e.Id).Get(tenant)));
        return new Page<SessionView>(views.OfType<SessionView>().ToArray(), next);
    }

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

    public async Task SessionChanged(string sessionId, SessionStatus status)
    {
        var entry = state.State.Sessions.Find(e => e.Id == sessionId);
        if (entry is null || entry.Status == status) return;
        entry.Status = status;
        await state.WriteStateAsync();
    }

    /// <summary>An open session past its expiry is expired, whether or not its reminder has run yet.</summary>
    private static SessionStatus EffectiveStatus(PatientSessionEntry entry, DateTimeOffset now) =>
        entry.Status == SessionStatus.Open && now >= entry.ExpiresAt ? SessionStatus.Expired : entry.Status;

    private (string Tenant, string Patient) KeyParts()
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/');
        if (slash <= 0 || slash == key.Length - 1) throw new InvalidOperationException($"Patient grain key '{key}' is not 'tenant/patientId'.");
        return (key[..slash], key[(slash + 1)..]);
    }

    public static bool IsAllowedReturnUrl(string? url, bool allowLoopbackHttp)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !string.IsNullOrEmpty(uri.UserInfo)) return false;
        if (uri.Scheme == Uri.UriSchemeHttps) return true;
        return allowLoopbackHttp && uri.Scheme == Uri.UriSchemeHttp
            && (uri.IsLoopback && (uri.Host is "127.0.0.1" or "localhost" or "[::1]"));
    }

    private static CreateSessionResult Invalid(string field, string error) => new(null, field, error);

    public Task<bool> Exists() => Task.FromResult(state.State.Sessions.Count > 0);

    public Task<PatientConnect.Erasure.PatientFootprint> ErasureTargets() => Task.FromResult(new PatientConnect.Erasure.PatientFootprint(
        state.State.Sessions.Select(e => e.Id).ToArray(), state.State.ConnectionsBySource.Values.Distinct(StringComparer.Ordinal).ToArray()));

    /// <summary>Right to delete: the index goes with the patient (its row is swept by the erasure job too).</summary>
    public async Task Erase()
    {
        await state.ClearStateAsync();
        state.State = new PatientState();
        DeactivateOnIdle();
    }
}

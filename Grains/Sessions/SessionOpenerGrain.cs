using Microsoft.Extensions.Options;
using PatientConnect.Grains.Sources;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// The create path: <see cref="NewSessions.Check"/>, then one insert of the session row (its list
/// position and expiry schedule included). No session grain is activated for it.
/// </summary>
/// <remarks>
/// Reentrant: a stateless worker has only as many local activations as the machine has cores, and
/// each would otherwise wait out its insert's commit before taking the next create; it keeps no state
/// between calls, so interleaving them is safe.
/// </remarks>
[StatelessWorker, Reentrant]
public sealed class SessionOpenerGrain(
    ISessionIndex sessions, SourceCatalog catalog, IOptions<PatientConnectOptions> options, TimeProvider time)
    : Grain, ISessionOpenerGrain
{
    public async Task<CreateSessionResult> Open(CreateSession request)
    {
        if (!Ids.IsValid(request.SessionId, Ids.SessionPrefix)) throw new ArgumentException("The session id is not a ps_ id.", nameof(request));
        if (NewSessions.Check(request, catalog, options.Value) is { } refusal) return refusal;
        var now = request.CreatedAt ?? time.GetUtcNow();
        var stored = await sessions.InsertAsync(request.SessionId!, NewSessions.State(request, now));
        // A retry finds what its first attempt stored; an id of someone else's is never answered with.
        if (stored.TenantId != request.TenantId || stored.PatientId != request.PatientId)
        {
            throw new InvalidOperationException($"Session {request.SessionId} already exists.");
        }
        if (stored.CreatedAt == now) Telemetry.PatientConnectMetrics.SessionCreated();
        return new CreateSessionResult(SessionViews.From(request.SessionId!, stored, options.Value, time.GetUtcNow()), null, null);
    }
}

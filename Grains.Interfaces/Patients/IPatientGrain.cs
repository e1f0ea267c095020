using PatientConnect.Common;
using PatientConnect.Connections;
using PatientConnect.Sessions;

namespace PatientConnect.Patients;

/// <summary>
/// One patient of one tenant, keyed by <see cref="Ids.PatientKey"/>. Holds its connection per source;
/// its sessions are listed from the session rows (<see cref="IPatientSessionListGrain"/>).
/// </summary>
[Alias("pc.IPatientGrain")]
public interface IPatientGrain : IGrainWithStringKey
{
    [Alias("CreateSession"), Retryable] Task<CreateSessionResult> CreateSession(CreateSession request);

    [ReadOnly, Alias("ListSessions"), Retryable, ResponseTimeout("00:00:05")] Task<Page<SessionView>> ListSessions(SessionListQuery query);

    [ReadOnly, Alias("ListConnections"), Retryable, ResponseTimeout("00:00:05")] Task<IReadOnlyList<ConnectionView>> ListConnections();

    /// <summary>The connection id for this source, created on first use so a reconnect reuses it.</summary>
    [Alias("GetOrAddConnectionId"), Retryable] Task<string> GetOrAddConnectionId(string sourceId);

    /// <summary>A patient exists from its first session (CONTRACT.md); the patient routes answer 404 otherwise.</summary>
    [ReadOnly, Alias("Exists"), Retryable] Task<bool> Exists();

    /// <summary>Right to delete: the ids of everything this patient has (sessions, connections).</summary>
    [ReadOnly, Alias("ErasureTargets"), Retryable] Task<PatientConnect.Erasure.PatientFootprint> ErasureTargets();

    /// <summary>Right to delete: forgets the patient (its session index and connections by source).</summary>
    [Alias("Erase"), Retryable] Task Erase();
}

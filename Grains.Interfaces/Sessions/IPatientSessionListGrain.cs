using PatientConnect.Common;

namespace PatientConnect.Sessions;

/// <summary>
/// A patient's sessions, newest first, read from the stored session rows in one query: no grain per
/// listed session and no per-patient activation (a stateless worker, run where it is called).
/// </summary>
[Alias("pc.IPatientSessionListGrain")]
public interface IPatientSessionListGrain : IGrainWithIntegerKey
{
    /// <summary>One page; a cursor not issued by this list is an ArgumentException naming "cursor".</summary>
    [ReadOnly, Alias("List"), Retryable, ResponseTimeout("00:00:05")]
    Task<Page<SessionView>> List(string tenantId, string patientId, SessionListQuery query);
}

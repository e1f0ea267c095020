using PatientConnect.Common;

namespace PatientConnect.Patients;

/// <summary>Reads patients' histories for the Api (a stateless worker over the event outbox).</summary>
[Alias("pc.IPatientHistoryGrain")]
public interface IPatientHistoryGrain : IGrainWithIntegerKey
{
    /// <summary>One page of the patient's events, newest first (tenant-scoped).</summary>
    [ReadOnly, Alias("List")] Task<Page<PatientEvent>> List(PatientEventQuery query);
}

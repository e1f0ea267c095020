using PatientConnect.Common;
using PatientConnect.Grains.Webhooks;
using PatientConnect.Patients;

namespace PatientConnect.Grains.Patients;

/// <summary>Stateless reads of the patient history: the events the grains stored in the outbox.</summary>
[StatelessWorker]
public sealed class PatientHistoryGrain(IPatientHistory history) : Grain, IPatientHistoryGrain
{
    public Task<Page<PatientEvent>> List(PatientEventQuery query)
    {
        ArgumentException.ThrowIfNullOrEmpty(query.TenantId);
        ArgumentException.ThrowIfNullOrEmpty(query.PatientId);
        return history.ReadAsync(query);
    }
}

namespace PatientConnect.Erasure;

/// <summary>
/// One right-to-delete job (key: its del_ id). Revokes the patient's connections at their sources and
/// deletes everything of the patient; a durable reminder resumes it after a silo loss until it completes.
/// </summary>
[Alias("pc.IPatientErasureGrain")]
public interface IPatientErasureGrain : IGrainWithStringKey
{
    /// <summary>Starts the job; null when the patient does not exist (has no session) for this tenant.</summary>
    [Alias("Start")] Task<ErasureJobView?> Start(string tenantId, string patientId);

    /// <summary>The job, or null when unknown or another tenant's.</summary>
    [ReadOnly, AlwaysInterleave, Alias("Get"), Retryable] Task<ErasureJobView?> Get(string tenantId);
}

namespace PatientConnect.Erasure;

/// <summary>
/// The erasure job object: the answer to DELETE /v1/patients/{patient_id} (202) and GET
/// /v1/patient-deletions/{id}, and the data of the patient.deleted event. It carries no patient id.
/// </summary>
public sealed record ErasureJobJson(string Id, ErasureStatus Status, DateTime CreatedAt, DateTime? CompletedAt, ErasureCountsJson Counts)
{
    public static ErasureJobJson From(ErasureJobView view) => new(
        view.Id, view.Status, view.CreatedAt.UtcDateTime, view.CompletedAt?.UtcDateTime, new ErasureCountsJson(
            view.Counts.Connections, view.Counts.ConnectionsRevoked, view.Counts.Sessions, view.Counts.Records, view.Counts.Events,
            view.Counts.IdempotencyRecords));
}

/// <summary>What was removed: connections (and how many were revoked at their source), sessions, records, history events, stored idempotent answers.</summary>
public sealed record ErasureCountsJson(int Connections, int ConnectionsRevoked, int Sessions, long Records, long Events, long IdempotencyRecords);

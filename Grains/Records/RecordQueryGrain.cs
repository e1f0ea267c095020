using PatientConnect.Common;
using PatientConnect.Grains.Storage;
using PatientConnect.Records;

namespace PatientConnect.Grains.Records;

/// <summary>
/// Stateless reads of pc_records for the Api. A stateless worker: activations are local to the
/// silo that receives the call and multiply under load, so record reads never queue behind each other.
/// </summary>
[StatelessWorker]
public sealed class RecordQueryGrain(IRecordStore store) : Grain, IRecordQueryGrain
{
    public Task<Page<string>> Query(RecordQuery query)
    {
        ArgumentException.ThrowIfNullOrEmpty(query.TenantId);
        ArgumentException.ThrowIfNullOrEmpty(query.PatientId);
        return store.QueryAsync(query);
    }

    public async Task<string?> Get(string tenantId, string patientId, string resourceType, string resourceId) =>
        await store.GetAsync(tenantId, patientId, resourceType, resourceId);
}

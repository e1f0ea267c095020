using System.Buffers;
using System.Text;
using PatientConnect.Common;
using PatientConnect.Grains.Storage;
using PatientConnect.Records;

namespace PatientConnect.Grains.Records;

/// <summary>
/// Stateless reads of pc_records for the Api. A stateless worker: activations are local to the
/// silo that receives the call and multiply under load, so record reads never queue behind each other.
/// <para>
/// Why the hop, rather than the Api reading Postgres itself: the record store (its SQL, keyset cursors
/// and the NDJSON chunking below) has one owner, in Grains, which the Api may not reference; the
/// Npgsql pool for records lives in the silos, so Api replicas add no database connections; and a
/// database outage reaches the Api as the same typed transient error as every other grain call (503).
/// The cost is one local call and one serialization of a page of at most 100 resources.
/// </para>
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

    public Task<FhirSearchPage> Search(FhirSearch search)
    {
        ArgumentException.ThrowIfNullOrEmpty(search.TenantId);
        ArgumentException.ThrowIfNullOrEmpty(search.PatientId);
        return store.SearchAsync(search);
    }

    public async Task<NdjsonChunk> ExportChunk(FhirSearch search)
    {
        var page = await Search(search with { IncludeTotal = false });
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, page.Resources.Sum(r => r.Json.Length + 1)));
        foreach (var resource in page.Resources)
        {
            // jsonb text never holds a raw line break (strings escape it), so one resource is one line.
            Encoding.UTF8.GetBytes(resource.Json, buffer);
            buffer.Write("\n"u8);
        }
        return new NdjsonChunk(buffer.WrittenSpan.ToArray(), page.Resources.Count, page.NextCursor);
    }

    public Task<IReadOnlyList<string>> StoredTypes(string tenantId, string patientId)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(patientId);
        return store.StoredTypesAsync(tenantId, patientId);
    }
}

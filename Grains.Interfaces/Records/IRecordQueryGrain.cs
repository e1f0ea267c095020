using PatientConnect.Common;

namespace PatientConnect.Records;

/// <summary>
/// Reads stored records for the Api (stateless worker over our Postgres table). Records cross the
/// grain boundary as the FHIR JSON text the source sent.
/// </summary>
[Alias("pc.IRecordQueryGrain")]
public interface IRecordQueryGrain : IGrainWithIntegerKey
{
    /// <summary>Keyset-paged records of one patient across their connections (tenant-scoped).</summary>
    [ReadOnly, Alias("Query"), Retryable] Task<Page<string>> Query(RecordQuery query);

    /// <summary>One record (the newest among the patient's connections), or null.</summary>
    [ReadOnly, Alias("Get"), Retryable] Task<string?> Get(string tenantId, string patientId, string resourceType, string resourceId);

    /// <summary>A FHIR search page over the patient's records, in (type, connection, id) order.</summary>
    [ReadOnly, Alias("Search"), Retryable] Task<FhirSearchPage> Search(FhirSearch search);

    /// <summary>The next batch of the patient's records as NDJSON ($export), in the same order as <see cref="Search"/>.</summary>
    [ReadOnly, Alias("ExportChunk"), Retryable] Task<NdjsonChunk> ExportChunk(FhirSearch search);

    /// <summary>The resource types the patient has records of, in ordinal order.</summary>
    [ReadOnly, Alias("StoredTypes"), Retryable] Task<IReadOnlyList<string>> StoredTypes(string tenantId, string patientId);
}

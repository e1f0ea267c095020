namespace PatientConnect.Records;

/// <summary>
/// A FHIR search over one patient's stored records (the /fhir routes and $export). The Api turns the
/// FHIR parameters into these plain filters: <c>_lastUpdated</c> comparisons become one half-open range
/// [<see cref="LastUpdatedFrom"/>, <see cref="LastUpdatedBefore"/>), <c>_id</c> lists an id set.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.FhirSearch")]
public sealed record FhirSearch(
    [property: Id(0)] string TenantId,
    [property: Id(1)] string PatientId,
    [property: Id(2)] string? ResourceType,
    [property: Id(3)] string? ConnectionId,
    [property: Id(4)] IReadOnlyList<string>? ResourceIds,
    [property: Id(5)] DateTimeOffset? LastUpdatedFrom,
    [property: Id(6)] DateTimeOffset? LastUpdatedBefore,
    [property: Id(7)] int Count,
    [property: Id(8)] string? Cursor,
    [property: Id(9)] bool IncludeTotal)
{
    /// <summary>The most resources one page (or one $export batch) carries.</summary>
    public const int MaxCount = 1000;
}

/// <summary>One page of a <see cref="FhirSearch"/>: the resources as stored, the next page's cursor, and the match count when asked.</summary>
[GenerateSerializer, Immutable, Alias("pc.FhirSearchPage")]
public sealed record FhirSearchPage(
    [property: Id(0)] IReadOnlyList<StoredResource> Resources,
    [property: Id(1)] string? NextCursor,
    [property: Id(2)] long? Total);

/// <summary>A stored resource with the keys it is stored under, so a Bundle entry's fullUrl needs no parse of the JSON.</summary>
[GenerateSerializer, Immutable, Alias("pc.StoredResource")]
public sealed record StoredResource(
    [property: Id(0)] string ResourceType,
    [property: Id(1)] string ResourceId,
    [property: Id(2)] string Json);

/// <summary>
/// One batch of $export: the resources as NDJSON (UTF-8, one per line), so the Api writes the bytes
/// straight to the response without holding them as strings.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.NdjsonChunk")]
public sealed record NdjsonChunk(
    [property: Id(0)] byte[] Ndjson,
    [property: Id(1)] int Count,
    [property: Id(2)] string? NextCursor);

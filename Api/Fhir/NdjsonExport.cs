using PatientConnect.Records;

namespace PatientConnect.Api.Fhir;

/// <summary>
/// The $export body: the patient's records one line each, read page by page (keyset, in type order)
/// and written to the response as each page arrives, so the Api holds one page at a time whatever
/// the chart's size. The status and headers are sent before the first page; a failure after that
/// can only cut the stream short, which the client sees as a truncated body (no final newline check).
/// </summary>
public sealed class NdjsonExport(IRecordQueryGrain records, string tenantId, string patientId, IReadOnlyList<string?> types, string? connectionId) : IResult
{
    /// <summary>Resources per grain call: big enough to amortize the round trip, small enough to keep memory flat.</summary>
    public const int PageSize = 500;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var aborted = httpContext.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = FhirResponses.Ndjson;
        await response.StartAsync(aborted);
        foreach (var type in types)
        {
            string? cursor = null;
            do
            {
                var chunk = await records.ExportChunk(new FhirSearch(tenantId, patientId, type, connectionId, null, null, null, PageSize, cursor, IncludeTotal: false));
                await response.Body.WriteAsync(chunk.Ndjson, aborted);
                await response.Body.FlushAsync(aborted);
                cursor = chunk.NextCursor;
            }
            while (cursor is not null && !aborted.IsCancellationRequested);
        }
    }
}

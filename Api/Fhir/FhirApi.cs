using System.Text.RegularExpressions;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Microsoft.AspNetCore.Mvc;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Hosting;
using PatientConnect.Records;

namespace PatientConnect.Api.Fhir;

/// <summary>
/// A read-only FHIR R4 endpoint per patient over the records PatientConnect stored:
/// <c>/v1/patients/{patient_id}/fhir</c> is the base a FHIR client is pointed at (search, read,
/// metadata), and <c>/v1/patients/{patient_id}/$export</c> streams the whole chart as NDJSON.
/// Records belong to the caller's tenant only; errors are OperationOutcome, not problem+json.
/// </summary>
public static partial class FhirApi
{
    public static IEndpointRouteBuilder MapFhirApi(this IEndpointRouteBuilder endpoints)
    {
        var fhir = endpoints.MapGroup("/patients/{patient_id}/fhir").WithTags("FHIR");

        // The literal "metadata" wins over {type} in routing.
        fhir.MapGet("/metadata", Metadata)
            .WithName("GetPatientFhirCapabilityStatement")
            .WithSummary("The CapabilityStatement of the patient's FHIR endpoint: the stored types, each readable and searchable by _id, _lastUpdated and connection.")
            .Produces(StatusCodes.Status200OK, contentType: "application/fhir+json");

        fhir.MapGet("/{type}", Search)
            .WithName("SearchPatientFhirResources")
            .WithSummary("FHIR search over the patient's stored records of one type: a searchset Bundle with self/next links and total. " +
                         "Parameters: _id (comma list), _lastUpdated (eq|ge|gt|le|lt|sa|eb + date), connection (conn_…), _count (default 50, capped at 1000), _total=none.")
            .Produces(StatusCodes.Status200OK, contentType: "application/fhir+json")
            .Produces(StatusCodes.Status400BadRequest, contentType: "application/fhir+json")
            .Produces(StatusCodes.Status404NotFound, contentType: "application/fhir+json")
            .WithResponseExample(StatusCodes.Status200OK, "application/fhir+json", """
                {"resourceType": "Bundle", "type": "searchset", "total": 212,
                 "link": [{"relation": "self", "url": "https://api.example/v1/patients/user-123/fhir/Observation?_count=50"},
                          {"relation": "next", "url": "https://api.example/v1/patients/user-123/fhir/Observation?_count=50&_cursor=WyJPYnNlcnZhdGlvbiJd"}],
                 "entry": [{"fullUrl": "https://api.example/v1/patients/user-123/fhir/Observation/obs-1",
                            "resource": {"resourceType": "Observation", "id": "obs-1", "status": "final", "code": {"text": "Heart rate"}},
                            "search": {"mode": "match"}}]}
                """)
            .WithResponseExample(StatusCodes.Status400BadRequest, "application/fhir+json", """
                {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid",
                  "diagnostics": "_lastUpdated: must be a FHIR date or dateTime with an optional prefix eq, ge, gt, le, lt, sa or eb (e.g. ge2024-01-31).",
                  "expression": ["_lastUpdated"]}]}
                """);

        fhir.MapGet("/{type}/{id}", Read)
            .WithName("ReadPatientFhirResource")
            .WithSummary("FHIR read of one stored resource of the patient (the most recently updated copy when several connections hold it).")
            .Produces(StatusCodes.Status200OK, contentType: "application/fhir+json")
            .Produces(StatusCodes.Status404NotFound, contentType: "application/fhir+json");

        endpoints.MapGet("/patients/{patient_id}/$export", Export)
            .WithTags("FHIR")
            .WithName("ExportPatientRecords")
            .WithSummary("Every stored record of the patient as application/fhir+ndjson (one resource per line), streamed one resource type after another. " +
                         "_type (comma list) and connection filter.")
            .Produces(StatusCodes.Status200OK, contentType: FhirResponses.Ndjson)
            .Produces(StatusCodes.Status400BadRequest, contentType: "application/fhir+json")
            .WithResponseExample(StatusCodes.Status200OK, FhirResponses.Ndjson,
                "\"{\\\"resourceType\\\": \\\"Condition\\\", \\\"id\\\": \\\"c1\\\"}\\n{\\\"resourceType\\\": \\\"Observation\\\", \\\"id\\\": \\\"o1\\\"}\\n\"");

        return endpoints;
    }

    private static async Task<IResult> Metadata([FromRoute(Name = "patient_id")] string patientId,
        HttpContext http, IClusterClient cluster, TimeProvider time)
    {
        if (!Ids.IsValidPatientId(patientId)) return InvalidPatient();
        var types = await cluster.GetGrain<IRecordQueryGrain>(0).StoredTypes(http.TenantId(), patientId);
        return FhirResponses.Resource(CapabilityStatements.Build(FhirBase(http, patientId), types, time.GetUtcNow()));
    }

    private static async Task<IResult> Search([FromRoute(Name = "patient_id")] string patientId, string type,
        HttpContext http, IClusterClient cluster, TimeProvider time)
    {
        if (!Ids.IsValidPatientId(patientId)) return InvalidPatient();
        if (!IsResourceType(type)) return FhirResponses.NotSupported("type", $"'{type}' is not a FHIR R4 resource type.", StatusCodes.Status404NotFound);
        if (!FhirSearchParameters.TryParse(http.Request.Query, FhirSearch.MaxCount, out var parameters, out var error))
            return FhirResponses.Invalid(error.Name, error.Message);
        if (parameters.Ignored.Count > 0 && PrefersStrictHandling(http.Request))
            return FhirResponses.NotSupported(parameters.Ignored[0], "is not a search parameter of this server.");

        FhirSearchPage page;
        try
        {
            page = await cluster.GetGrain<IRecordQueryGrain>(0).Search(new FhirSearch(http.TenantId(), patientId, type,
                parameters.ConnectionId, parameters.Ids, parameters.LastUpdatedFrom, parameters.LastUpdatedBefore,
                parameters.Count, parameters.Cursor, parameters.IncludeTotal));
        }
        catch (Common.InvalidFieldException e) when (e.Field == "cursor")
        {
            return FhirResponses.Invalid(FhirSearchParameters.CursorParameter, "is not a cursor this server issued.");
        }

        var fhirBase = FhirBase(http, patientId);
        var query = parameters.SelfQuery;
        var self = $"{fhirBase}/{type}" + Query(query, parameters.Cursor);
        var next = page.NextCursor is null ? null : $"{fhirBase}/{type}" + Query(query, page.NextCursor);
        return FhirResponses.Bytes(SearchsetBundle.Write(fhirBase, page, self, next, parameters.Ignored, time.GetUtcNow()));
    }

    private static async Task<IResult> Read([FromRoute(Name = "patient_id")] string patientId, string type, string id,
        HttpContext http, IClusterClient cluster)
    {
        // Malformed names cannot exist: 404 without a database round trip.
        if (!Ids.IsValidPatientId(patientId) || !IsResourceType(type) || !FhirSearchParameters.FhirId().IsMatch(id))
            return FhirResponses.NotFound($"No {type}/{id} for this patient.");
        var json = await cluster.GetGrain<IRecordQueryGrain>(0).Get(http.TenantId(), patientId, type, id);
        return json is null ? FhirResponses.NotFound($"No {type}/{id} for this patient.") : FhirResponses.Stored(json);
    }

    private static async Task<IResult> Export([FromRoute(Name = "patient_id")] string patientId,
        [FromQuery(Name = "_type")] string? types, string? connection, HttpContext http, IClusterClient cluster)
    {
        if (!Ids.IsValidPatientId(patientId)) return InvalidPatient();
        List<string?> typeList = [null];
        if (types is not null)
        {
            var list = types.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (list.Length == 0 || list.Any(t => !IsResourceType(t)))
                return FhirResponses.Invalid("_type", "must be a comma-separated list of FHIR R4 resource types.");
            typeList = [.. list.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        }
        if (connection is not null && !Ids.IsValid(connection, Ids.ConnectionPrefix))
            return FhirResponses.Invalid("connection", "must be a connection id (conn_…).");
        return new NdjsonExport(cluster.GetGrain<IRecordQueryGrain>(0), http.TenantId(), patientId, typeList, connection);
    }

    private static IResult InvalidPatient() =>
        FhirResponses.Invalid("patient_id", "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'.");

    private static string Query(string applied, string? cursor)
    {
        var parts = new List<string>(2);
        if (applied.Length > 0) parts.Add(applied);
        if (cursor is not null) parts.Add($"{FhirSearchParameters.CursorParameter}={Uri.EscapeDataString(cursor)}");
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    /// <summary>The base a FHIR client is pointed at, as this request reached us (fullUrl and links derive from it).</summary>
    public static string FhirBase(HttpContext http, string patientId) =>
        $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/v1/patients/{Uri.EscapeDataString(patientId)}/fhir";

    private static bool IsResourceType(string type) => ResourceTypeName().IsMatch(type) && ModelInfo.IsKnownResource(type);

    private static bool PrefersStrictHandling(HttpRequest request) =>
        request.Headers["Prefer"].Any(p => p is not null && p.Contains("handling=strict", StringComparison.OrdinalIgnoreCase));

    [GeneratedRegex("^[A-Z][A-Za-z]{0,63}$")]
    private static partial Regex ResourceTypeName();
}

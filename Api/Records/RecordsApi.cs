using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Hosting;
using PatientConnect.Records;

namespace PatientConnect.Api.Records;

/// <summary>
/// A patient's records as the sources sent them (FHIR R4 JSON), across all their connections:
/// keyset-paged lists and single reads. Records belong to the caller's tenant only.
/// </summary>
public static partial class RecordsApi
{
    private const string JsonContentType = "application/json; charset=utf-8";

    public static IEndpointRouteBuilder MapRecordsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/patients/{patient_id}/records").WithTags("Records");

        group.MapGet("/", List)
            .WithName("ListPatientRecords")
            .WithSummary("A patient's FHIR records across their connections; filter by type, connection_id and since (meta.lastUpdated ≥).")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);

        group.MapGet("/{type}/{id}", Get)
            .WithName("GetPatientRecord")
            .WithSummary("One FHIR record of the patient (the most recently updated copy when several connections hold it).")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return endpoints;
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> List(
        [FromRoute(Name = "patient_id")] string patientId,
        string? type,
        [FromQuery(Name = "connection_id")] string? connectionId,
        string? since, string? limit, string? cursor,
        HttpContext http, IClusterClient cluster)
    {
        var errors = new List<FieldError>();
        if (!Ids.IsValidPatientId(patientId))
            errors.Add(new FieldError("patient_id", "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'."));
        if (type is not null && !ResourceType().IsMatch(type))
            errors.Add(new FieldError("type", "must be a FHIR resource type such as Observation."));
        if (connectionId is not null && !Ids.IsValid(connectionId, Ids.ConnectionPrefix))
            errors.Add(new FieldError("connection_id", "must be a connection id (conn_…)."));
        DateTimeOffset? sinceValue = null;
        if (since is not null)
        {
            if (TryParseTimestamp(since, out var parsed)) sinceValue = parsed;
            else errors.Add(new FieldError("since", "must be an RFC 3339 timestamp such as 2025-01-31T00:00:00Z."));
        }
        var pageSize = QueryParameters.Limit(limit, errors);
        var pageCursor = QueryParameters.Cursor(cursor, errors);
        if (errors.Count > 0) return Problems.Validation(errors);

        var page = await cluster.GetGrain<IRecordQueryGrain>(0).Query(
            new RecordQuery(http.TenantId(), patientId, type, connectionId, sinceValue, pageSize, pageCursor));

        // The records go out byte for byte as stored: no parse and re-serialize per resource.
        var body = new StringBuilder(page.Data.Sum(d => d.Length + 1) + 64);
        body.Append("{\"data\":[");
        for (var i = 0; i < page.Data.Count; i++)
        {
            if (i > 0) body.Append(',');
            body.Append(page.Data[i]);
        }
        body.Append("],\"next_cursor\":").Append(page.NextCursor is null ? "null" : JsonSerializer.Serialize(page.NextCursor)).Append('}');
        return TypedResults.Text(body.ToString(), JsonContentType, Encoding.UTF8);
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> Get(
        [FromRoute(Name = "patient_id")] string patientId, string type, string id,
        HttpContext http, IClusterClient cluster)
    {
        // Malformed names cannot exist: answer 404 without a database round trip.
        if (!Ids.IsValidPatientId(patientId) || !ResourceType().IsMatch(type) || !FhirId().IsMatch(id))
            return Problems.NotFound("record", $"{type}/{id}");
        var json = await cluster.GetGrain<IRecordQueryGrain>(0).Get(http.TenantId(), patientId, type, id);
        return json is null ? Problems.NotFound("record", $"{type}/{id}") : TypedResults.Text(json, JsonContentType, Encoding.UTF8);
    }

    internal static bool TryParseTimestamp(string raw, out DateTimeOffset value)
    {
        value = default;
        // An unencoded '+' of an offset arrives as a space.
        raw = raw.Replace(' ', '+');
        // RFC 3339: a full date-time with an offset or Z (a bare date is accepted as midnight UTC).
        if (raw.Length == 10 && DateTime.TryParseExact(raw, "yyyy-MM-dd", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var day))
        {
            value = new DateTimeOffset(day, TimeSpan.Zero);
            return true;
        }
        return raw.Length > 10 && raw.Contains('T', StringComparison.OrdinalIgnoreCase)
               && (raw.EndsWith('Z') || raw.EndsWith('z') || raw[^6] is '+' or '-')
               && DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }

    [GeneratedRegex("^[A-Z][A-Za-z]{0,63}$")]
    private static partial Regex ResourceType();

    [GeneratedRegex(@"^[A-Za-z0-9\-\.]{1,64}$")]
    private static partial Regex FhirId();
}

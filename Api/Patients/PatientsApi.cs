using Microsoft.AspNetCore.Http.HttpResults;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Hosting;
using PatientConnect.Contract;
using PatientConnect.Patients;
using PatientConnect.Sessions;

namespace PatientConnect.Api.Patients;

public static class PatientsApi
{
    public static IEndpointRouteBuilder MapPatientsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/patients/{patient_id}").WithTags("Patients");

        group.MapGet("/patient-sessions", ListSessions)
            .WithName("ListPatientSessions")
            .WithSummary("A patient's sessions, newest first; status filters to open, complete or expired.");

        group.MapGet("/connections", ListConnections)
            .WithName("ListPatientConnections")
            .WithSummary("A patient's connections, one per source.");

        return endpoints;
    }

    private static async Task<Results<SessionPageResult, ProblemHttpResult>> ListSessions(
        [Microsoft.AspNetCore.Mvc.FromRoute(Name = "patient_id")] string patientId,
        string? status, string? limit, string? cursor,
        HttpContext http, IClusterClient cluster)
    {
        var errors = new List<FieldError>();
        if (!Ids.IsValidPatientId(patientId))
            errors.Add(new FieldError("patient_id", "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'."));
        var statusFilter = ParseStatus(status, errors);
        var pageSize = QueryParameters.Limit(limit, errors);
        var pageCursor = QueryParameters.Cursor(cursor, errors);
        if (errors.Count > 0) return Problems.Validation(errors);

        var tenantId = http.TenantId();
        // Through the page cache: no database round trip while nothing was written (ISessionPageCacheGrain).
        var page = await cluster.GetGrain<ISessionPageCacheGrain>(SessionPageShards.Of(tenantId, patientId))
            .Page(tenantId, patientId, new SessionListQuery(statusFilter, pageSize, pageCursor));
        return new SessionPageResult(page);
    }

    private static async Task<Results<Ok<ListJson<ConnectionJson>>, ProblemHttpResult>> ListConnections(
        [Microsoft.AspNetCore.Mvc.FromRoute(Name = "patient_id")] string patientId,
        string? limit, string? cursor,
        HttpContext http, IClusterClient cluster)
    {
        var errors = new List<FieldError>();
        if (!Ids.IsValidPatientId(patientId))
            errors.Add(new FieldError("patient_id", "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'."));
        var pageSize = QueryParameters.Limit(limit, errors);
        var offset = OffsetCursor.Parse(cursor, errors);
        if (errors.Count > 0) return Problems.Validation(errors);

        var connections = await cluster.GetGrain<IPatientGrain>(Ids.PatientKey(http.TenantId(), patientId)).ListConnections();
        // A patient has one connection per source, a short list: paged here over a stable order.
        var ordered = connections.OrderByDescending(c => c.CreatedAt).ThenBy(c => c.Id, StringComparer.Ordinal).ToList();
        var data = ordered.Skip(offset).Take(pageSize).Select(ConnectionJson.From).ToList();
        var next = offset + pageSize < ordered.Count ? OffsetCursor.Format(offset + pageSize) : null;
        return TypedResults.Ok(new ListJson<ConnectionJson>(data, next));
    }

    private static SessionStatus? ParseStatus(string? raw, List<FieldError> errors)
    {
        switch (raw)
        {
            case null or "": return null;
            case "open": return SessionStatus.Open;
            case "complete": return SessionStatus.Complete;
            case "expired": return SessionStatus.Expired;
            default:
                errors.Add(new FieldError("status", "must be one of: open, complete, expired."));
                return null;
        }
    }
}

using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Hosting;
using PatientConnect.Erasure;

namespace PatientConnect.Api.Erasure;

/// <summary>
/// Right to delete: <c>DELETE /v1/patients/{patient_id}</c> answers 202 with a job; the job revokes the
/// patient's connections at their sources and erases everything of the patient, and
/// <c>GET /v1/patient-deletions/{id}</c> shows it until it is <c>completed</c>.
/// </summary>
public static class ErasureApi
{
    private const string JobExample = """
        {"id": "del_7h2k4m6n8p2q4r6s8t2v3w4x5y6z7a2b", "status": "completed", "created_at": "2026-01-31T10:00:00Z",
         "completed_at": "2026-01-31T10:00:02Z",
         "counts": {"connections": 2, "connections_revoked": 2, "sessions": 3, "records": 4787, "events": 41, "idempotency_records": 3}}
        """;

    public static IEndpointRouteBuilder MapErasureApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapDelete("/patients/{patient_id}", Delete)
            .WithTags("Patients")
            .WithName("DeletePatient")
            .WithSummary("Erases a patient: revokes every connection at its source, then deletes its tokens, records, sessions, history and " +
                         "stored idempotent answers. 202 with a job (GET /v1/patient-deletions/{id} until completed); afterwards every route " +
                         "of the patient answers 404. The job and its patient.deleted webhook event name no patient: keep the job id.")
            .Produces<ErasureJobJson>(StatusCodes.Status202Accepted)
            .WithResponseExample(StatusCodes.Status202Accepted, "application/json", JobExample.Replace("\"completed\"", "\"running\"")
                .Replace("\"2026-01-31T10:00:02Z\"", "null"))
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        endpoints.MapGet("/patient-deletions/{id}", Get)
            .WithTags("Patients")
            .WithName("GetPatientDeletion")
            .WithSummary("A patient erasure job: running, then completed with what it removed.")
            .Produces<ErasureJobJson>()
            .WithResponseExample(StatusCodes.Status200OK, "application/json", JobExample)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static async Task<Results<Accepted<ErasureJobJson>, ProblemHttpResult>> Delete(
        [FromRoute(Name = "patient_id")] string patientId, HttpContext http, IClusterClient cluster)
    {
        if (!Ids.IsValidPatientId(patientId))
            return Problems.Validation("patient_id", "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'.");
        var job = await cluster.GetGrain<IPatientErasureGrain>(Ids.NewErasureId()).Start(http.TenantId(), patientId);
        return job is null
            ? Problems.NotFound("patient", patientId)
            : TypedResults.Accepted($"/v1/patient-deletions/{job.Id}", ErasureJobJson.From(job));
    }

    private static async Task<Results<Ok<ErasureJobJson>, ProblemHttpResult>> Get(string id, HttpContext http, IClusterClient cluster)
    {
        if (!Ids.IsValid(id, Ids.ErasurePrefix)) return Problems.NotFound("patient deletion", id);
        return await cluster.GetGrain<IPatientErasureGrain>(id).Get(http.TenantId()) is { } job
            ? TypedResults.Ok(ErasureJobJson.From(job))
            : Problems.NotFound("patient deletion", id);
    }
}

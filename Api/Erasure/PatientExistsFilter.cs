using PatientConnect.Api.Auth;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Fhir;
using PatientConnect.Patients;

namespace PatientConnect.Api.Erasure;

/// <summary>
/// "A patient exists from its first session" (CONTRACT.md): every route under /v1/patients/{patient_id}
/// answers 404 for a patient of this tenant that has no session, whether it never had one, belongs to
/// another tenant, or was erased. One check for all of them, applied to the /v1 group.
/// <para>
/// Bad input is still a 400 naming the field, whoever the patient is: a read route runs first (reads
/// change nothing and are tenant-scoped) and its own refusal stands; its answer is replaced by the 404
/// when the patient does not exist, unless the answer shows the patient exists by itself (<see cref="IPatientEvidence"/>:
/// a non-empty page of its sessions), which spares the list a second grain call. Other methods are checked before they run. The FHIR routes answer
/// with an OperationOutcome.
/// </para>
/// </summary>
public sealed class PatientExistsFilter(IClusterClient cluster) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!http.Request.RouteValues.TryGetValue("patient_id", out var value) || value is not string patientId || !Ids.IsValidPatientId(patientId))
        {
            return await next(context);
        }
        var patient = cluster.GetGrain<IPatientGrain>(Ids.PatientKey(http.TenantId(), patientId));
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
        {
            return await patient.Exists() ? await next(context) : NotFound(http, patientId);
        }
        var result = await next(context);
        if (StatusOf(result) is >= 400 and < 500 || ShowsPatientExists(result)) return result;
        return await patient.Exists() ? result : NotFound(http, patientId);
    }

    private static object NotFound(HttpContext http, string patientId)
    {
        var path = http.Request.Path.Value ?? "";
        return path.Contains("/fhir", StringComparison.Ordinal) || path.EndsWith("/$export", StringComparison.Ordinal)
            ? FhirResponses.NotFound($"No patient with id '{patientId}'.")
            : Problems.NotFound("patient", patientId);
    }

    private static bool ShowsPatientExists(object? result) => result switch
    {
        INestedHttpResult nested => ShowsPatientExists(nested.Result),
        IPatientEvidence evidence => evidence.ShowsPatientExists,
        _ => false,
    };

    private static int? StatusOf(object? result) => result switch
    {
        INestedHttpResult nested => StatusOf(nested.Result),
        IStatusCodeHttpResult withStatus => withStatus.StatusCode,
        _ => null,
    };
}

using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;
using PatientConnect.Api.Erasure;
using PatientConnect.Api.Hosting;
using PatientConnect.Contract;
using PatientConnect.Sessions;

namespace PatientConnect.Api.Patients;

/// <summary>
/// 200 with a page of a patient's sessions as the silo wrote it (<see cref="SessionPageJson"/>): the bytes
/// go out as they are, the same JSON <c>TypedResults.Ok(ListJson&lt;SessionJson&gt;)</c> would write, without
/// a view per session crossing to the Api and being serialized again. Documented as that type.
/// </summary>
public sealed class SessionPageResult(SessionPageJson page) : IResult, IStatusCodeHttpResult, IPatientEvidence, IEndpointMetadataProvider
{
    public int? StatusCode => StatusCodes.Status200OK;

    public bool ShowsPatientExists => page.Count > 0;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = page.Utf8.Length;
        return response.Body.WriteAsync(page.Utf8).AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(ListJson<SessionJson>), ["application/json"]));
}

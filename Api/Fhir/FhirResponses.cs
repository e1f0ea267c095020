using System.Text.Json;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Hl7.Fhir.Serialization;

namespace PatientConnect.Api.Fhir;

/// <summary>
/// The FHIR side of the /fhir routes' answers: the media types, the SDK's serializer, and errors as
/// OperationOutcome (a FHIR client parses those, not problem+json).
/// </summary>
public static class FhirResponses
{
    public const string FhirJson = "application/fhir+json; charset=utf-8";
    public const string Ndjson = "application/fhir+ndjson";

    public static JsonSerializerOptions Options { get; } = new JsonSerializerOptions().ForFhir();

    public static IResult Resource(Resource resource, int status = StatusCodes.Status200OK) =>
        new FhirBytes(JsonSerializer.SerializeToUtf8Bytes(resource, Options), status);

    public static IResult Bytes(ReadOnlyMemory<byte> body) => new FhirBytes(body, StatusCodes.Status200OK);

    /// <summary>A stored resource goes out as stored: no parse and re-serialize.</summary>
    public static IResult Stored(string json) => TypedResults.Text(json, FhirJson);

    public static OperationOutcome Outcome(OperationOutcome.IssueType code, string diagnostics, string? expression = null,
        OperationOutcome.IssueSeverity severity = OperationOutcome.IssueSeverity.Error)
    {
        var issue = new OperationOutcome.IssueComponent { Severity = severity, Code = code, Diagnostics = diagnostics };
        if (expression is not null) issue.Expression = [expression];
        return new OperationOutcome { Issue = [issue] };
    }

    /// <summary>400: a search parameter (or the route's type) the request got wrong, named in expression.</summary>
    public static IResult Invalid(string parameter, string diagnostics) =>
        Resource(Outcome(OperationOutcome.IssueType.Invalid, $"{parameter}: {diagnostics}", parameter), StatusCodes.Status400BadRequest);

    /// <summary>Missing and foreign resources answer alike, as on every other route.</summary>
    public static IResult NotFound(string diagnostics) =>
        Resource(Outcome(OperationOutcome.IssueType.NotFound, diagnostics), StatusCodes.Status404NotFound);

    public static IResult NotSupported(string parameter, string diagnostics, int status = StatusCodes.Status400BadRequest) =>
        Resource(Outcome(OperationOutcome.IssueType.NotSupported, $"{parameter}: {diagnostics}", parameter), status);

    private sealed class FhirBytes(ReadOnlyMemory<byte> body, int status) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = FhirJson;
            httpContext.Response.ContentLength = body.Length;
            await httpContext.Response.Body.WriteAsync(body, httpContext.RequestAborted);
        }
    }
}

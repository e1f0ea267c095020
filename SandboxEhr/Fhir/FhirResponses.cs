using System.Text.Json;

namespace SandboxEhr.Fhir;

/// <summary>Writes FHIR JSON answers: pre-serialized resources and OperationOutcomes.</summary>
public static class FhirResponses
{
    public const string ContentType = "application/fhir+json; charset=utf-8";

    public static async Task WriteJson(HttpContext context, int status, byte[] json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = ContentType;
        context.Response.ContentLength = json.Length;
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
    }

    /// <summary>An OperationOutcome with one issue (severity error unless told), at the given status.</summary>
    public static Task WriteOutcome(HttpContext context, int status, string code, string diagnostics, string severity = "error")
    {
        return WriteJson(context, status, Outcome([(severity, code, diagnostics)]));
    }

    public static byte[] Outcome(IEnumerable<(string Severity, string Code, string Diagnostics)> issues)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
            WriteOutcome(writer, issues);
        return stream.ToArray();
    }

    public static void WriteOutcome(Utf8JsonWriter writer, IEnumerable<(string Severity, string Code, string Diagnostics)> issues)
    {
        writer.WriteStartObject();
        writer.WriteString("resourceType", "OperationOutcome");
        writer.WriteStartArray("issue");
        foreach (var (severity, code, diagnostics) in issues)
        {
            writer.WriteStartObject();
            writer.WriteString("severity", severity);
            writer.WriteString("code", code);
            writer.WriteString("diagnostics", diagnostics);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

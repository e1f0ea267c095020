using System.Buffers;
using System.Text.Json;
using Hl7.Fhir.Model;
using PatientConnect.Records;

namespace PatientConnect.Api.Fhir;

/// <summary>
/// A <c>searchset</c> Bundle around stored resources, written with Utf8JsonWriter: each resource is
/// copied in as the raw JSON it was stored as, so a page of a thousand resources costs no FHIR parse.
/// </summary>
public static class SearchsetBundle
{
    public static ReadOnlyMemory<byte> Write(string fhirBase, FhirSearchPage page, string selfUrl, string? nextUrl,
        IReadOnlyList<string> ignoredParameters, DateTimeOffset now)
    {
        var buffer = new ArrayBufferWriter<byte>(4096 + page.Resources.Sum(r => r.Json.Length + fhirBase.Length + 96));
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("resourceType", "Bundle");
            json.WriteString("id", Guid.NewGuid().ToString("N"));
            json.WriteStartObject("meta");
            json.WriteString("lastUpdated", now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteEndObject();
            json.WriteString("type", "searchset");
            if (page.Total is { } total) json.WriteNumber("total", total);

            json.WriteStartArray("link");
            WriteLink(json, "self", selfUrl);
            if (nextUrl is not null) WriteLink(json, "next", nextUrl);
            json.WriteEndArray();

            json.WriteStartArray("entry");
            foreach (var resource in page.Resources)
            {
                json.WriteStartObject();
                json.WriteString("fullUrl", $"{fhirBase}/{resource.ResourceType}/{resource.ResourceId}");
                json.WritePropertyName("resource");
                // Text read from a jsonb column: valid JSON by construction.
                json.WriteRawValue(resource.Json, skipInputValidation: true);
                json.WriteStartObject("search");
                json.WriteString("mode", "match");
                json.WriteEndObject();
                json.WriteEndObject();
            }
            if (ignoredParameters.Count > 0)
            {
                // FHIR search: a server that ignores parameters says so in an entry of mode "outcome".
                var outcome = FhirResponses.Outcome(OperationOutcome.IssueType.NotSupported,
                    $"Search parameters not supported and ignored: {string.Join(", ", ignoredParameters)}.",
                    severity: OperationOutcome.IssueSeverity.Warning);
                json.WriteStartObject();
                json.WritePropertyName("resource");
                JsonSerializer.Serialize(json, outcome, FhirResponses.Options);
                json.WriteStartObject("search");
                json.WriteString("mode", "outcome");
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }

    private static void WriteLink(Utf8JsonWriter json, string relation, string url)
    {
        json.WriteStartObject();
        json.WriteString("relation", relation);
        json.WriteString("url", url);
        json.WriteEndObject();
    }
}

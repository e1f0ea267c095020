using System.Globalization;
using System.Text;
using System.Text.Json;
using PatientConnect.Grains.Storage;

namespace PatientConnect.Grains.Sync;

/// <summary>An attachment a DocumentReference points at.</summary>
public sealed record AttachmentLink(string Url, string? ContentType, DateTimeOffset? OwnerLastUpdated);

/// <summary>One searchset page (or one read resource) taken apart: the rows to store, the references and attachments to follow, the next link.</summary>
public sealed class FhirPage
{
    /// <summary>Referenced types read after the searches (when the source serves them and the scopes allow).</summary>
    public static readonly IReadOnlySet<string> ReferenceTypes =
        new HashSet<string>(StringComparer.Ordinal) { "Practitioner", "Organization", "Location", "Medication" };

    public List<RecordRow> Rows { get; } = [];
    /// <summary>"Type/id" of referenced resources (ReferenceTypes only), relative to the FHIR base.</summary>
    public HashSet<string> References { get; } = new(StringComparer.Ordinal);
    public List<AttachmentLink> Attachments { get; } = [];
    public string? Next { get; private set; }

    /// <summary>A searchset Bundle: match and include entries become rows; outcome entries are skipped.</summary>
    public static FhirPage FromBundle(byte[] json, string fhirBase)
    {
        var page = new FhirPage();
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || Str(root, "resourceType") != "Bundle")
        {
            throw new FormatException("The search answer is not a FHIR Bundle.");
        }
        if (root.TryGetProperty("link", out var links) && links.ValueKind == JsonValueKind.Array)
        {
            foreach (var link in links.EnumerateArray())
            {
                if (Str(link, "relation") == "next" && Str(link, "url") is { Length: > 0 } url) page.Next = url;
            }
        }
        if (root.TryGetProperty("entry", out var entries) && entries.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in entries.EnumerateArray())
            {
                if (entry.TryGetProperty("search", out var search) && Str(search, "mode") == "outcome") continue;
                if (entry.TryGetProperty("resource", out var resource)) page.Add(resource, fhirBase);
            }
        }
        return page;
    }

    /// <summary>A single resource (a read).</summary>
    public static FhirPage FromResource(byte[] json, string fhirBase)
    {
        var page = new FhirPage();
        using var document = JsonDocument.Parse(json);
        page.Add(document.RootElement, fhirBase);
        return page;
    }

    private void Add(JsonElement resource, string fhirBase)
    {
        if (resource.ValueKind != JsonValueKind.Object) return;
        var type = Str(resource, "resourceType");
        var id = Str(resource, "id");
        if (string.IsNullOrEmpty(type) || string.IsNullOrEmpty(id) || type == "OperationOutcome") return;
        DateTimeOffset? lastUpdated = null;
        if (resource.TryGetProperty("meta", out var meta) && Str(meta, "lastUpdated") is { } stamp
            && DateTimeOffset.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            lastUpdated = parsed;
        }
        Rows.Add(new RecordRow(type, id, lastUpdated, resource.GetRawText()));
        CollectReferences(resource, fhirBase);
        if (type == "DocumentReference" && resource.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in content.EnumerateArray())
            {
                if (item.TryGetProperty("attachment", out var attachment) && Str(attachment, "url") is { Length: > 0 } url)
                {
                    Attachments.Add(new AttachmentLink(url, Str(attachment, "contentType"), lastUpdated));
                }
            }
        }
    }

    private void CollectReferences(JsonElement element, string fhirBase)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.NameEquals("reference") && property.Value.ValueKind == JsonValueKind.String)
                    {
                        if (RelativeReference(property.Value.GetString()!, fhirBase) is { } reference) References.Add(reference);
                    }
                    else if (property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
                    {
                        CollectReferences(property.Value, fhirBase);
                    }
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) CollectReferences(item, fhirBase);
                break;
        }
    }

    /// <summary>"Practitioner/123" for a relative reference or an absolute one under our FHIR base; null otherwise.</summary>
    public static string? RelativeReference(string reference, string fhirBase)
    {
        if (reference.StartsWith('#')) return null;
        var value = reference;
        if (value.Contains("://", StringComparison.Ordinal))
        {
            var prefix = fhirBase + "/";
            if (!value.StartsWith(prefix, StringComparison.Ordinal)) return null;
            value = value[prefix.Length..];
        }
        var history = value.IndexOf("/_history/", StringComparison.Ordinal);
        if (history >= 0) value = value[..history];
        var parts = value.Split('/');
        if (parts.Length != 2 || !ReferenceTypes.Contains(parts[0]) || !IsFhirId(parts[1])) return null;
        return value;
    }

    /// <summary>FHIR id: [A-Za-z0-9\-\.]{1,64}.</summary>
    public static bool IsFhirId(string id) =>
        id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.');

    /// <summary>A Binary resource holding raw attachment bytes as base64, the way FHIR JSON carries them.</summary>
    public static string BinaryJson(string id, string? contentType, byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("resourceType", "Binary");
            writer.WriteString("id", id);
            writer.WriteString("contentType", contentType ?? "application/octet-stream");
            writer.WriteBase64String("data", data);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>OperationOutcome diagnostics, or the first characters of a non-FHIR body.</summary>
    public static string? OutcomeText(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("issue", out var issues) && issues.ValueKind == JsonValueKind.Array)
            {
                var texts = issues.EnumerateArray()
                    .Select(i => Str(i, "diagnostics") ?? (i.TryGetProperty("details", out var d) ? Str(d, "text") : null))
                    .OfType<string>().ToList();
                if (texts.Count > 0) return Truncate(string.Join("; ", texts));
            }
        }
        catch (JsonException)
        {
        }
        return Truncate(Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 200)));
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200];

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}

using System.Text.Json;

namespace PatientConnect.Grains.Sources.Import;

/// <summary>
/// ONC Lantern's per-vendor lists: <c>{"Endpoints":[{"URL","OrganizationName","NPIID","OrganizationZipCode"}]}</c>.
/// The vendor is the file's (Lantern names one file per developer) unless the URL's host says otherwise.
/// </summary>
public static class LanternImporter
{
    public const string Format = "lantern";

    public static ImportResult Import(string file, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("Endpoints", out var endpoints))
        {
            throw new DirectoryImportException(file, "not a Lantern list: the top level must be an object with an \"Endpoints\" array.");
        }
        if (endpoints.ValueKind != JsonValueKind.Array)
        {
            throw new DirectoryImportException(file, "\"Endpoints\" must be an array.");
        }

        var fileVendor = Vendors.FromFileName(file);
        var sources = new List<ImportedSource>();
        var skipped = new Skips();
        var index = 0;
        foreach (var endpoint in endpoints.EnumerateArray())
        {
            var where = $"Endpoints[{index++}]";
            if (endpoint.ValueKind != JsonValueKind.Object)
            {
                throw new DirectoryImportException(file, $"{where} is not an object.");
            }
            var rawUrl = Json.RequiredString(file, endpoint, "URL", where);
            var name = Json.OptionalString(file, endpoint, "OrganizationName", where);
            var zip = Json.OptionalString(file, endpoint, "OrganizationZipCode", where);
            if (Accept(rawUrl, skipped) is not { } url) continue;
            sources.Add(new ImportedSource(url, Vendors.For(url, fileVendor), Text.Names(name), Zip: EndpointUrls.Zip(zip)));
        }
        return new ImportResult(file, Format, sources, skipped.ToDictionary());
    }

    /// <summary>The normalised URL when the endpoint is a public R4 patient-access one; else counts why not.</summary>
    internal static string? Accept(string rawUrl, Skips skipped)
    {
        var loose = EndpointUrls.Normalize(rawUrl, allowHttp: true);
        if (loose is null) return skipped.Add("invalid_url");
        if (EndpointUrls.NamesOlderRelease(loose)) return skipped.Add("older_release");
        // Tokens travel over this connection: an endpoint without TLS is not offered to patients.
        var url = EndpointUrls.Normalize(rawUrl);
        if (url is null) return skipped.Add("not_https");
        if (!EndpointUrls.IsPublicHost(url)) return skipped.Add("private_host");
        return url;
    }
}

/// <summary>Counts of endpoints left out, by reason.</summary>
internal sealed class Skips
{
    private readonly SortedDictionary<string, int> _counts = new(StringComparer.Ordinal);

    public string? Add(string reason)
    {
        _counts[reason] = _counts.GetValueOrDefault(reason) + 1;
        return null;
    }

    public IReadOnlyDictionary<string, int> ToDictionary() => new Dictionary<string, int>(_counts);
}

/// <summary>Strict reads: a wrong type is a malformed file, not a missing value.</summary>
internal static class Json
{
    public static string RequiredString(string file, JsonElement obj, string property, string where)
    {
        if (!obj.TryGetProperty(property, out var value) || value.ValueKind != JsonValueKind.String)
        {
            throw new DirectoryImportException(file, $"{where}.{property} is missing or not a string.");
        }
        return value.GetString()!;
    }

    public static string? OptionalString(string file, JsonElement obj, string property, string where)
    {
        if (!obj.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new DirectoryImportException(file, $"{where}.{property} is not a string.");
        }
        return value.GetString();
    }

    public static IEnumerable<JsonElement> OptionalArray(string file, JsonElement obj, string property, string where)
    {
        if (!obj.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null) return [];
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new DirectoryImportException(file, $"{where}.{property} is not an array.");
        }
        return value.EnumerateArray();
    }

    public static string? Str(JsonElement obj, string property) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

internal static class Text
{
    /// <summary>A display name tidied: trimmed, inner runs of spaces collapsed; empty becomes nothing.</summary>
    public static string? Clean(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        return string.Join(' ', name.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    public static IReadOnlyList<string> Names(params string?[] names) =>
        names.Select(Clean).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
}

using System.Text.Json;

namespace PatientConnect.Grains.Sync;

/// <summary>
/// What a source's CapabilityStatement (<c>{base}/metadata</c>) says it serves: per type, the
/// interactions, search parameters (with their documentation) and _include values.
/// </summary>
public sealed class SourceCapabilities
{
    private sealed record TypeSupport(HashSet<string> Interactions, Dictionary<string, string> SearchParams, HashSet<string> Includes);

    private readonly Dictionary<string, TypeSupport> _types = new(StringComparer.Ordinal);

    /// <summary>False when the statement could not be read: every US Core search is then tried and refusals noted.</summary>
    public bool Known { get; private init; }

    public static SourceCapabilities Unknown { get; } = new() { Known = false };

    public static SourceCapabilities Parse(byte[] json)
    {
        var capabilities = new SourceCapabilities { Known = true };
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (!root.TryGetProperty("rest", out var rests) || rests.ValueKind != JsonValueKind.Array) return capabilities;
        foreach (var rest in rests.EnumerateArray())
        {
            if (rest.TryGetProperty("mode", out var mode) && mode.GetString() != "server") continue;
            if (!rest.TryGetProperty("resource", out var resources) || resources.ValueKind != JsonValueKind.Array) continue;
            foreach (var resource in resources.EnumerateArray())
            {
                if (!resource.TryGetProperty("type", out var typeElement) || typeElement.GetString() is not { } type) continue;
                var support = new TypeSupport(new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal));
                if (resource.TryGetProperty("interaction", out var interactions) && interactions.ValueKind == JsonValueKind.Array)
                {
                    foreach (var interaction in interactions.EnumerateArray())
                    {
                        if (interaction.TryGetProperty("code", out var code) && code.GetString() is { } c) support.Interactions.Add(c);
                    }
                }
                if (resource.TryGetProperty("searchParam", out var parameters) && parameters.ValueKind == JsonValueKind.Array)
                {
                    foreach (var parameter in parameters.EnumerateArray())
                    {
                        if (parameter.TryGetProperty("name", out var name) && name.GetString() is { } n)
                        {
                            support.SearchParams[n] = parameter.TryGetProperty("documentation", out var doc) ? doc.GetString() ?? "" : "";
                        }
                    }
                }
                if (resource.TryGetProperty("searchInclude", out var includes) && includes.ValueKind == JsonValueKind.Array)
                {
                    foreach (var include in includes.EnumerateArray())
                    {
                        if (include.GetString() is { } i) support.Includes.Add(i);
                    }
                }
                capabilities._types[type] = support;
            }
        }
        return capabilities;
    }

    public bool CanRead(string type) => !Known || (_types.TryGetValue(type, out var t) && t.Interactions.Contains("read"));

    public bool CanSearch(string type) => !Known || (_types.TryGetValue(type, out var t) && t.Interactions.Contains("search-type"));

    public bool HasSearchParam(string type, string name) =>
        !Known ? name is "patient" : _types.TryGetValue(type, out var t) && t.SearchParams.ContainsKey(name);

    public bool HasInclude(string type, string include) => Known && _types.TryGetValue(type, out var t) && t.Includes.Contains(include);

    /// <summary>
    /// Whether the statement marks a search parameter as required. FHIR R4 has no element for that,
    /// so servers say it in the parameter's documentation (Epic documents Observation.category so).
    /// </summary>
    public bool SaysRequired(string type, string name) =>
        Known && _types.TryGetValue(type, out var t) && t.SearchParams.TryGetValue(name, out var doc)
        && doc.Contains("required", StringComparison.OrdinalIgnoreCase);
}

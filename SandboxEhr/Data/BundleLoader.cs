using System.Text.Json;
using Hl7.Fhir.Model;

namespace SandboxEhr.Data;

/// <summary>
/// Reads FHIR transaction or collection Bundles (Synthea output and the like) into plain resources:
/// entries referenced by <c>urn:uuid:</c> full URLs or by conditional references
/// (<c>Organization?identifier=system|value</c>) are rewritten to <c>Type/id</c>, as a server would on
/// processing the transaction.
/// </summary>
public static class BundleLoader
{
    private static readonly DateTimeOffset DefaultLastUpdated = DataGenerator.Epoch;

    /// <summary>Every *.json Bundle of the folder (not its subfolders), in file-name order.</summary>
    public static List<Resource> LoadDirectory(string directory)
    {
        var files = Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal).ToArray();
        var perFile = new List<Resource>[files.Length];
        Parallel.For(0, files.Length, i =>
        {
            using var stream = File.OpenRead(files[i]);
            perFile[i] = Load(ParseBundle(stream, files[i]));
        });
        return perFile.SelectMany(r => r).ToList();
    }

    public static Bundle ParseBundle(Stream json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<Bundle>(json, FhirJson.Lenient)
                   ?? throw new InvalidDataException($"{source}: empty document");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a FHIR Bundle ({e.Message})", e);
        }
    }

    /// <summary>The Bundle's resources with ids assigned where missing and references resolved.</summary>
    public static List<Resource> Load(Bundle bundle)
    {
        var resources = new List<Resource>();
        var byFullUrl = new Dictionary<string, string>(StringComparer.Ordinal);
        var byIdentifier = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in bundle.Entry)
        {
            if (entry.Resource is not { } resource)
                continue;
            resource.Id ??= IdFromFullUrl(entry.FullUrl) ?? DataGenerator.StableHash($"{entry.FullUrl}#{resources.Count}").ToString("x8");
            var reference = $"{resource.TypeName}/{resource.Id}";
            if (!string.IsNullOrEmpty(entry.FullUrl))
                byFullUrl[entry.FullUrl] = reference;
            foreach (var identifier in Identifiers(resource))
                byIdentifier.TryAdd($"{resource.TypeName}?identifier={identifier.System}|{identifier.Value}", reference);
            resource.Meta ??= new Meta();
            resource.Meta.LastUpdated ??= DefaultLastUpdated;
            resources.Add(resource);
        }

        foreach (var resource in resources)
            Rewrite(resource, reference => byFullUrl.GetValueOrDefault(reference) ?? byIdentifier.GetValueOrDefault(reference));
        return resources;
    }

    private static string? IdFromFullUrl(string? fullUrl)
    {
        if (string.IsNullOrEmpty(fullUrl))
            return null;
        if (fullUrl.StartsWith("urn:uuid:", StringComparison.OrdinalIgnoreCase))
            return fullUrl["urn:uuid:".Length..];
        var slash = fullUrl.LastIndexOf('/');
        return slash >= 0 && slash < fullUrl.Length - 1 ? fullUrl[(slash + 1)..] : null;
    }

    private static IEnumerable<Identifier> Identifiers(Resource resource) =>
        resource.TryGetValue("identifier", out var value) && value is IEnumerable<Identifier> list
            ? list.Where(i => !string.IsNullOrEmpty(i.System) && !string.IsNullOrEmpty(i.Value))
            : [];

    /// <summary>Walks every element and rewrites the references the resolver knows.</summary>
    private static void Rewrite(Base element, Func<string, string?> resolve)
    {
        if (element is ResourceReference { Reference: { } target } reference && resolve(target) is { } resolved)
            reference.Reference = resolved;
        foreach (var (_, child) in element.EnumerateElements())
        {
            switch (child)
            {
                case Resource:
                    // Contained resources keep their own local references.
                    break;
                case Base single:
                    Rewrite(single, resolve);
                    break;
                case IEnumerable<Base> many:
                    foreach (var item in many)
                        if (item is not Resource)
                            Rewrite(item, resolve);
                    break;
            }
        }
    }
}

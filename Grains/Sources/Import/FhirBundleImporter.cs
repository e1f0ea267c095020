using System.Text.Json;

namespace PatientConnect.Grains.Sources.Import;

/// <summary>
/// FHIR R4 <c>Bundle</c>s of endpoints, in the two shapes vendors publish:
/// <list type="bullet">
/// <item>Endpoint resources, each with its Organization <c>contained</c> (Epic's published list);</item>
/// <item>the SMART App Launch "User-access Brands" bundle: Organization (brand) and Endpoint resources side
/// by side, the brand carrying its aliases, address, logo (<c>organization-brand</c> extension) and patient
/// portal (<c>organization-portal</c> extension), the Endpoint its FHIR version (<c>endpoint-fhir-version</c>).</item>
/// </list>
/// </summary>
public static class FhirBundleImporter
{
    public const string EndpointBundleFormat = "fhir-endpoint-bundle";
    public const string BrandsBundleFormat = "smart-brands-bundle";

    private const string BrandExtension = "http://hl7.org/fhir/StructureDefinition/organization-brand";
    private const string PortalExtension = "http://hl7.org/fhir/StructureDefinition/organization-portal";
    private const string FhirVersionExtension = "http://hl7.org/fhir/StructureDefinition/endpoint-fhir-version";

    private sealed record Resource(string Type, string? Id, string? FullUrl, JsonElement Json, string Where);

    public static ImportResult Import(string file, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || Json.Str(root, "resourceType") != "Bundle")
        {
            throw new DirectoryImportException(file, "not a FHIR Bundle: resourceType must be \"Bundle\".");
        }
        var resources = new List<Resource>();
        var i = 0;
        foreach (var entry in Json.OptionalArray(file, root, "entry", "Bundle"))
        {
            var where = $"entry[{i++}]";
            if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("resource", out var resource)
                || resource.ValueKind != JsonValueKind.Object)
            {
                throw new DirectoryImportException(file, $"{where} has no resource object.");
            }
            var type = Json.RequiredString(file, resource, "resourceType", where + ".resource");
            resources.Add(new Resource(type, Json.Str(resource, "id"), Json.OptionalString(file, entry, "fullUrl", where), resource, where + ".resource"));
        }

        var fileVendor = Vendors.FromFileName(file);
        var brands = resources.Any(r => r.Type == "Organization");
        var organizations = resources.Where(r => r.Type == "Organization").ToList();
        var sources = new List<ImportedSource>();
        var skipped = new Skips();
        foreach (var endpoint in resources.Where(r => r.Type == "Endpoint"))
        {
            var rawUrl = Json.RequiredString(file, endpoint.Json, "address", endpoint.Where);
            var status = Json.OptionalString(file, endpoint.Json, "status", endpoint.Where);
            if (status is not (null or "active"))
            {
                skipped.Add("inactive");
                continue;
            }
            var versions = FhirVersions(file, endpoint);
            if (versions.Count > 0 && !versions.Any(EndpointUrls.IsR4Version))
            {
                skipped.Add("older_release");
                continue;
            }
            if (LanternImporter.Accept(rawUrl, skipped) is not { } url) continue;
            var vendor = Vendors.For(url, fileVendor);
            var endpointName = Json.OptionalString(file, endpoint.Json, "name", endpoint.Where);

            if (!brands)
            {
                var org = ContainedOrganization(file, endpoint);
                var (city, state, zip) = org is { } o ? Address(file, o, endpoint.Where + ".contained") : (null, null, null);
                var names = new List<string?> { org is { } n ? Json.OptionalString(file, n, "name", endpoint.Where + ".contained") : null, endpointName };
                if (org is { } a) names.AddRange(Json.OptionalArray(file, a, "alias", endpoint.Where + ".contained").Select(x => x.ValueKind == JsonValueKind.String ? x.GetString() : null));
                sources.Add(new ImportedSource(url, vendor, Text.Names([.. names]), city, state, zip));
                continue;
            }

            var owners = organizations.Where(o => References(file, o, "endpoint").Any(r => Resolves(r, endpoint))
                                                  || Portals(o).Any(p => p.Endpoint is { } e && Resolves(e, endpoint))).ToList();
            if (owners.Count == 0 && endpoint.Json.TryGetProperty("managingOrganization", out var managing)
                && Json.Str(managing, "reference") is { } managingRef
                && organizations.FirstOrDefault(o => Resolves(managingRef, o)) is { } manager)
            {
                owners.Add(manager);
            }
            if (owners.Count == 0)
            {
                sources.Add(new ImportedSource(url, vendor, Text.Names(endpointName)));
                continue;
            }
            foreach (var owner in owners)
            {
                var where = owner.Where;
                var aliases = Json.OptionalArray(file, owner.Json, "alias", where).Select(a => a.ValueKind == JsonValueKind.String ? a.GetString() : null);
                var names = Text.Names([Json.OptionalString(file, owner.Json, "name", where), .. aliases]);
                var (city, state, zip) = Address(file, owner.Json, where);
                var portal = Portals(owner).FirstOrDefault(p => p.Endpoint is { } e && Resolves(e, endpoint)) ?? Portals(owner).FirstOrDefault();
                var lineage = Lineage(owner, organizations);
                var logo = lineage.Select(BrandLogo).FirstOrDefault(l => l is not null) ?? portal?.Logo;
                var portalUrl = portal?.Url ?? lineage.Skip(1).SelectMany(Portals).Select(p => p.Url).FirstOrDefault(u => u is not null);
                var portalName = portal?.Name ?? lineage.Skip(1).SelectMany(Portals).Select(p => p.Name).FirstOrDefault(n => n is not null);
                sources.Add(new ImportedSource(url, vendor, names.Count > 0 ? names : Text.Names(endpointName), city, state, zip,
                    SafeUrl(logo), SafeUrl(portalUrl), DisplayNames.Clean(portalName)));
            }
        }
        return new ImportResult(file, brands ? BrandsBundleFormat : EndpointBundleFormat, sources, skipped.ToDictionary());
    }

    private static List<string> FhirVersions(string file, Resource endpoint)
    {
        var versions = new List<string>();
        foreach (var ext in Json.OptionalArray(file, endpoint.Json, "extension", endpoint.Where))
        {
            if (Json.Str(ext, "url") == FhirVersionExtension && Json.Str(ext, "valueCode") is { } code) versions.Add(code);
        }
        // "application/fhir+json; fhirVersion=4.0" in payloadMimeType says the same thing.
        foreach (var mime in Json.OptionalArray(file, endpoint.Json, "payloadMimeType", endpoint.Where))
        {
            if (mime.ValueKind != JsonValueKind.String) continue;
            var text = mime.GetString()!;
            var at = text.IndexOf("fhirVersion=", StringComparison.OrdinalIgnoreCase);
            if (at >= 0) versions.Add(text[(at + "fhirVersion=".Length)..].Split(';')[0].Trim());
        }
        return versions;
    }

    private static JsonElement? ContainedOrganization(string file, Resource endpoint)
    {
        var contained = Json.OptionalArray(file, endpoint.Json, "contained", endpoint.Where)
            .Where(c => Json.Str(c, "resourceType") == "Organization").ToList();
        if (contained.Count == 0) return null;
        var reference = endpoint.Json.TryGetProperty("managingOrganization", out var m) ? Json.Str(m, "reference") : null;
        var id = reference?.TrimStart('#');
        return contained.FirstOrDefault(c => id is not null && Json.Str(c, "id") == id) is { ValueKind: JsonValueKind.Object } match
            ? match
            : contained[0];
    }

    private static (string? City, string? State, string? Zip) Address(string file, JsonElement organization, string where)
    {
        var address = Json.OptionalArray(file, organization, "address", where).FirstOrDefault(a => a.ValueKind == JsonValueKind.Object);
        if (address.ValueKind != JsonValueKind.Object) return (null, null, null);
        var state = Text.Clean(Json.Str(address, "state"));
        return (Text.Clean(Json.Str(address, "city")), state?.Length == 2 ? state.ToUpperInvariant() : state,
            EndpointUrls.Zip(Json.Str(address, "postalCode")));
    }

    private static IEnumerable<string> References(string file, Resource resource, string property) =>
        Json.OptionalArray(file, resource.Json, property, resource.Where).Select(r => Json.Str(r, "reference")).OfType<string>();

    private sealed record Portal(string? Url, string? Logo, string? Endpoint, string? Name);

    private static IEnumerable<Portal> Portals(Resource organization)
    {
        if (!organization.Json.TryGetProperty("extension", out var extensions) || extensions.ValueKind != JsonValueKind.Array) yield break;
        foreach (var ext in extensions.EnumerateArray())
        {
            if (Json.Str(ext, "url") != PortalExtension) continue;
            string? url = null, logo = null, endpoint = null, name = null;
            foreach (var part in SubExtensions(ext))
            {
                switch (Json.Str(part, "url"))
                {
                    case "portalUrl": url = Json.Str(part, "valueUrl") ?? Json.Str(part, "valueUri"); break;
                    case "portalLogo": logo = Json.Str(part, "valueUrl") ?? Json.Str(part, "valueUri"); break;
                    case "portalName": name = Json.Str(part, "valueString"); break;
                    case "portalEndpoint":
                        endpoint = part.TryGetProperty("valueReference", out var r) ? Json.Str(r, "reference") : null;
                        break;
                }
            }
            yield return new Portal(url, logo, endpoint, name);
        }
    }

    private static string? BrandLogo(Resource organization)
    {
        if (!organization.Json.TryGetProperty("extension", out var extensions) || extensions.ValueKind != JsonValueKind.Array) return null;
        foreach (var ext in extensions.EnumerateArray())
        {
            if (Json.Str(ext, "url") != BrandExtension) continue;
            foreach (var part in SubExtensions(ext))
            {
                if (Json.Str(part, "url") == "brandLogo") return Json.Str(part, "valueUrl") ?? Json.Str(part, "valueUri");
            }
        }
        return null;
    }

    private static IEnumerable<JsonElement> SubExtensions(JsonElement ext) =>
        ext.TryGetProperty("extension", out var parts) && parts.ValueKind == JsonValueKind.Array ? parts.EnumerateArray() : [];

    // The brand itself, then its parents through partOf (a child brand inherits the parent's logo and portal).
    private static List<Resource> Lineage(Resource organization, List<Resource> all)
    {
        var chain = new List<Resource> { organization };
        var current = organization;
        while (chain.Count < 10 && current.Json.TryGetProperty("partOf", out var partOf) && Json.Str(partOf, "reference") is { } parentRef
               && all.FirstOrDefault(o => Resolves(parentRef, o)) is { } parent && !chain.Contains(parent))
        {
            chain.Add(parent);
            current = parent;
        }
        return chain;
    }

    // A reference names a resource by the entry's fullUrl, or by "Type/id" (relative or at the end of an absolute URL).
    private static bool Resolves(string reference, Resource resource)
    {
        if (resource.FullUrl is not null && reference == resource.FullUrl) return true;
        if (resource.Id is null) return false;
        var local = resource.Type + "/" + resource.Id;
        return reference == local || reference.EndsWith("/" + local, StringComparison.Ordinal);
    }

    private static string? SafeUrl(string? url) => EndpointUrls.Normalize(url) is null ? null : url!.Trim();
}

using System.Text;

namespace PatientConnect.Grains.Sources.Import;

/// <summary>
/// Vendor slugs (<c>epic</c>, <c>cerner</c>, …): the key that selects a client registration
/// (<c>Directory:Vendors:{slug}:ClientId</c>) and the vendor filter of the search.
/// </summary>
public static class Vendors
{
    // Hosts that say who runs the server, whatever list it came from: aggregator lists (1Up) mix
    // vendors, and a vendor's own list names its platform better than its company name does.
    private static readonly (string HostSuffix, string Vendor)[] Hosts =
    [
        ("epichosted.com", "epic"),
        ("epic.com", "epic"),
        ("cerner.com", "cerner"),
        ("oracle.com", "cerner"),
        ("athenahealth.com", "athena"),
        ("healow.com", "eclinicalworks"),
        ("eclinicalworks.com", "eclinicalworks"),
        ("meditech.cloud", "meditech"),
        ("meditech.com", "meditech"),
        ("practicefusion.com", "practice-fusion"),
        ("patientfusion.com", "practice-fusion"),
        ("greenwayhealth.com", "greenway"),
        ("nextgen.com", "nextgen"),
        ("meldrx.com", "darena"),
        ("drchrono.com", "drchrono"),
    ];

    // Lantern file stems whose company name is not what people call the product.
    private static readonly Dictionary<string, string> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["epic-systems"] = "epic",
        ["cerner"] = "cerner",
        ["athenahealth"] = "athena",
        ["athenaclinicals"] = "athena",
        ["medical-information-technology-meditech"] = "meditech",
        ["1up"] = "1up",
        ["greenway-health"] = "greenway",
        ["nextgen-healthcare"] = "nextgen",
        ["darena-solutions"] = "darena",
        ["carepaths-ehr"] = "carepaths",
        ["drchrono"] = "drchrono",
    };

    private static readonly HashSet<string> CompanySuffixes = new(StringComparer.OrdinalIgnoreCase)
    {
        "inc", "llc", "corp", "corporation", "co", "ltd", "lp", "llp", "pc", "bv", "o", "endpointsources", "endpoints",
    };

    /// <summary>The vendor a URL's host names, or null when the host is not a known vendor's.</summary>
    public static string? FromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return null;
        var host = uri.Host.ToLowerInvariant();
        foreach (var (suffix, vendor) in Hosts)
        {
            if (host == suffix || host.EndsWith("." + suffix, StringComparison.Ordinal)) return vendor;
        }
        // Epic's proxy path is the same on every customer's own host.
        if (uri.AbsolutePath.Contains("/api/FHIR/", StringComparison.OrdinalIgnoreCase)
            && (uri.AbsolutePath.Contains("fhirproxy", StringComparison.OrdinalIgnoreCase)
                || uri.AbsolutePath.Contains("/interconnect", StringComparison.OrdinalIgnoreCase)))
        {
            return "epic";
        }
        return null;
    }

    /// <summary>
    /// A slug from a list's file name: <c>Epic_Systems_Corporation_1_EndpointSources.json</c> → <c>epic</c>,
    /// <c>Medicare_Cigna_EndpointSources.json</c> → <c>medicare-cigna</c>, <c>epic-r4-endpoints-2021.json</c> → <c>epic</c>.
    /// </summary>
    public static string FromFileName(string fileName)
    {
        var stem = Path.GetFileName(fileName);
        foreach (var ext in new[] { ".json.gz", ".json", ".gz" })
        {
            if (stem.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) stem = stem[..^ext.Length];
        }
        var words = new List<string>();
        var current = new StringBuilder();
        void Flush()
        {
            if (current.Length > 0) words.Add(current.ToString().ToLowerInvariant());
            current.Clear();
        }
        for (var i = 0; i < stem.Length; i++)
        {
            var c = stem[i];
            if (!char.IsAsciiLetterOrDigit(c)) { Flush(); continue; }
            // "1UpEndpointSources", "CareEvolutionEndpointSources": a capital after a lower-case letter starts a word.
            if (char.IsAsciiLetterUpper(c) && i > 0 && char.IsAsciiLetterLower(stem[i - 1]) && stem.AsSpan(i).StartsWith("Endpoint"))
            {
                Flush();
            }
            current.Append(c);
        }
        Flush();
        // Drop list noise: company suffixes, the "_1" of a second list, release and year markers.
        var kept = words.Where(w => !CompanySuffixes.Contains(w) && !w.All(char.IsAsciiDigit) && w is not ("r4" or "dstu2" or "fhir" or "bundle")).ToList();
        if (kept.Count == 0) return "unknown";
        var slug = string.Join('-', kept);
        if (Names.TryGetValue(slug, out var known)) return known;
        foreach (var (name, vendor) in Names)
        {
            if (slug.StartsWith(name + "-", StringComparison.Ordinal)) return vendor;
        }
        return slug;
    }

    /// <summary>The URL's vendor when its host says, else the file's.</summary>
    public static string For(string url, string fileVendor) => FromUrl(url) ?? fileVendor;
}

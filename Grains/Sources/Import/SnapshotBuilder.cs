namespace PatientConnect.Grains.Sources.Import;

/// <summary>
/// Merges imported lists into one directory: one source per FHIR base URL (compared as source ids
/// are, ignoring case), every name any list gives it kept as an alias.
/// </summary>
public sealed class SnapshotBuilder
{
    /// <summary>More names than this on one base URL: a multi-tenant endpoint (athenahealth's one URL
    /// serves thousands of practices), listed under its platform's name and found by every practice's.</summary>
    public const int SharedEndpointNames = 25;

    private sealed class Merged(string url)
    {
        public string Url { get; } = url;
        public List<string> Names { get; } = [];
        public HashSet<string> Seen { get; } = new(StringComparer.OrdinalIgnoreCase);
        public string? Vendor, City, State, Zip, Logo, Portal;
    }

    private readonly Dictionary<string, Merged> _byKey = new(StringComparer.Ordinal);
    private readonly List<SnapshotInput> _inputs = [];

    public void Add(ImportResult result)
    {
        _inputs.Add(new SnapshotInput(result.File, result.Format, result.Sources.Count, result.Skipped));
        foreach (var source in result.Sources)
        {
            var key = EndpointUrls.Key(source.FhirBaseUrl);
            if (!_byKey.TryGetValue(key, out var merged)) _byKey[key] = merged = new Merged(source.FhirBaseUrl);
            foreach (var name in source.Names)
            {
                if (merged.Seen.Add(name)) merged.Names.Add(name);
            }
            if (merged.Vendor is null or "unknown") merged.Vendor = source.Vendor;
            merged.City ??= source.City;
            merged.State ??= source.State;
            merged.Zip ??= source.Zip;
            merged.Logo ??= source.LogoUrl;
            merged.Portal ??= source.PortalUrl;
        }
    }

    public DirectorySnapshot Build()
    {
        var sources = _byKey.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => ToSource(p.Value)).ToList();
        return new DirectorySnapshot { Inputs = _inputs.ToList(), Sources = sources };
    }

    private static SnapshotSource ToSource(Merged m)
    {
        var vendor = m.Vendor ?? "unknown";
        string name;
        IReadOnlyList<string> aliases;
        if (m.Names.Count > SharedEndpointNames)
        {
            name = VendorDisplayName(vendor);
            aliases = m.Names;
        }
        else if (m.Names.Count > 0)
        {
            name = m.Names[0];
            aliases = m.Names.Skip(1).ToArray();
        }
        else
        {
            // Some lists give no organisation name at all: the host is the best name there is.
            name = new Uri(m.Url).Host;
            aliases = [];
        }
        return new SnapshotSource
        {
            FhirBaseUrl = m.Url,
            Name = name,
            Aliases = aliases,
            Vendor = vendor,
            City = m.City,
            State = m.State ?? ZipStates.StateOf(m.Zip),
            Zip = m.Zip,
            LogoUrl = m.Logo,
            PortalUrl = m.Portal,
        };
    }

    private static string VendorDisplayName(string vendor) => vendor switch
    {
        "athena" => "athenahealth",
        "epic" => "Epic",
        "cerner" => "Oracle Health (Cerner)",
        "eclinicalworks" => "eClinicalWorks (healow)",
        "meditech" => "MEDITECH",
        _ => string.Join(' ', vendor.Split('-').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..])),
    };
}

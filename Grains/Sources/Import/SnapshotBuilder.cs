namespace PatientConnect.Grains.Sources.Import;

/// <summary>
/// Merges imported lists into one directory: one source per FHIR base URL (compared as source ids
/// are, ignoring case), every name any list gives it kept as an alias. Names are cleaned for display
/// (<see cref="DisplayNames"/>), the raw name staying an alias, and an organisation listed twice on
/// the same server (the same cleaned name, vendor and host) becomes one source.
/// </summary>
public sealed class SnapshotBuilder
{
    /// <summary>More names than this on one base URL: a multi-tenant endpoint (athenahealth's one URL
    /// serves thousands of practices), listed under its platform's name and found by every practice's.</summary>
    public const int SharedEndpointNames = 25;

    /// <summary>More base URLs than this on one host: a platform hosting many organisations, where
    /// the same name on two paths may well be two practices, so only the same path merges.</summary>
    public const int SharedHostBases = 8;

    private sealed class Merged(string url)
    {
        public string Url { get; } = url;
        public List<string> Names { get; } = [];
        public HashSet<string> Seen { get; } = new(StringComparer.OrdinalIgnoreCase);
        public string? Vendor, City, State, Zip, Logo, Portal, PortalName;
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
            merged.PortalName ??= source.PortalName;
        }
    }

    public DirectorySnapshot Build()
    {
        var sources = _byKey.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => ToSource(p.Value)).ToList();
        return new DirectorySnapshot { Inputs = _inputs.ToList(), Sources = MergeSameOrganisation(sources) };
    }

    private static SnapshotSource ToSource(Merged m)
    {
        var vendor = m.Vendor ?? "unknown";
        string name;
        var aliases = new List<string>();
        if (m.Names.Count > SharedEndpointNames)
        {
            name = VendorDisplayName(vendor);
            aliases.AddRange(m.Names);
        }
        else
        {
            // The first name that is still a name once cleaned; the raw spelling stays findable.
            var shown = m.Names.Select((raw, i) => (Raw: raw, Clean: DisplayNames.Clean(raw), Index: i)).FirstOrDefault(n => n.Clean is not null);
            if (shown.Clean is not null)
            {
                name = shown.Clean;
                aliases.AddRange(m.Names.Where((raw, i) => i != shown.Index || raw != shown.Clean));
            }
            else
            {
                // Some lists give no organisation name at all: the host is the best name there is.
                name = new Uri(m.Url).Host;
                aliases.AddRange(m.Names);
            }
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
            PortalName = m.PortalName,
        };
    }

    /// <summary>
    /// One organisation's server listed under several base URLs (Altera's <c>/fhir</c> and <c>/open</c>,
    /// MEDITECH's API versions, Practice Fusion's two hosts for one practice) shows once: the same cleaned
    /// name and vendor on the same host (on a multi-tenant host: the same tenant path) is one source.
    /// </summary>
    private static List<SnapshotSource> MergeSameOrganisation(List<SnapshotSource> sources)
    {
        var basesPerHost = sources.GroupBy(s => CanonicalHost(new Uri(s.FhirBaseUrl))).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        string OrganisationKey(SnapshotSource s)
        {
            var uri = new Uri(s.FhirBaseUrl);
            var host = CanonicalHost(uri);
            var place = basesPerHost[host] > SharedHostBases ? host + uri.AbsolutePath.TrimEnd('/').ToLowerInvariant() : host;
            return $"{s.Vendor}\n{s.Name.ToLowerInvariant()}\n{place}";
        }

        var merged = new List<SnapshotSource>(sources.Count);
        foreach (var group in sources.GroupBy(OrganisationKey))
        {
            var members = group.OrderBy(Preference).ThenBy(s => s.FhirBaseUrl.Length).ThenBy(s => s.FhirBaseUrl, StringComparer.Ordinal).ToList();
            if (members.Count == 1)
            {
                merged.Add(members[0]);
                continue;
            }
            var kept = members[0];
            var aliases = new List<string>(kept.Aliases);
            foreach (var other in members.Skip(1))
            {
                aliases.AddRange(other.Aliases.Where(a => !aliases.Contains(a, StringComparer.OrdinalIgnoreCase) && !string.Equals(a, kept.Name, StringComparison.OrdinalIgnoreCase)));
            }
            merged.Add(kept with
            {
                Aliases = aliases,
                City = kept.City ?? members.Select(m => m.City).FirstOrDefault(c => c is not null),
                State = kept.State ?? members.Select(m => m.State).FirstOrDefault(c => c is not null),
                Zip = kept.Zip ?? members.Select(m => m.Zip).FirstOrDefault(c => c is not null),
                LogoUrl = kept.LogoUrl ?? members.Select(m => m.LogoUrl).FirstOrDefault(c => c is not null),
                PortalUrl = kept.PortalUrl ?? members.Select(m => m.PortalUrl).FirstOrDefault(c => c is not null),
                PortalName = kept.PortalName ?? members.Select(m => m.PortalName).FirstOrDefault(c => c is not null),
                MergedUrls = members.Skip(1).Select(m => m.FhirBaseUrl).ToArray(),
            });
        }
        return merged.OrderBy(s => EndpointUrls.Key(s.FhirBaseUrl), StringComparer.Ordinal).ToList();
    }

    // Practice Fusion publishes every practice under its patient API host and its practice API host.
    private static string CanonicalHost(Uri uri)
    {
        var host = uri.Host.ToLowerInvariant();
        return host == "api.patientfusion.com" ? "api.practicefusion.com" : host;
    }

    // Which base URL of a merged organisation patients connect to: an "open" (unauthenticated, no
    // patient sign-in) path last, an explicitly R4 one first.
    private static int Preference(SnapshotSource s)
    {
        var path = new Uri(s.FhirBaseUrl).AbsolutePath.ToLowerInvariant();
        var open = path.Split('/').Any(p => p.StartsWith("open", StringComparison.Ordinal));
        var r4 = path.Contains("r4", StringComparison.Ordinal);
        return (open ? 2 : 0) + (r4 ? 0 : 1);
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

using PatientConnect.Sources;

namespace PatientConnect.Api.Connect;

/// <summary>
/// Entries with the same name on one page must not look the same: each gets the facts that tell
/// it apart from the others (place, portal, vendor, server), the fewest that make every one unique.
/// </summary>
public static class Lookalikes
{
    private static readonly Func<SourceView, string>[] Facts =
    [
        Where,
        s => s.PortalName ?? "",
        s => VendorName(s.Vendor),
        s => Host(s.FhirBaseUrl),
        s => HostAndPath(s.FhirBaseUrl),
    ];

    /// <summary>For each entry, the line that sets it apart from same-named entries on the list; null when its name is unique
    /// there, or when its place or portal (each shown on its own line anyway) already does.</summary>
    public static IReadOnlyList<string?> Details(IReadOnlyList<SourceView> sources)
    {
        var details = new string?[sources.Count];
        foreach (var group in Enumerable.Range(0, sources.Count).GroupBy(i => sources[i].Name.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            var members = group.ToList();
            if (members.Count < 2) continue;
            // Facts that differ within the group, in order, until the chosen ones tell every member apart.
            var chosen = new List<int>();
            for (var f = 0; f < Facts.Length; f++)
            {
                var values = members.Select(i => Facts[f](sources[i])).ToList();
                if (values.Distinct(StringComparer.OrdinalIgnoreCase).Count() < 2) continue;
                // The server's path is only needed when the host alone does not do it.
                if (f == 4 && chosen.Contains(3)) chosen.Remove(3);
                chosen.Add(f);
                var keys = members.Select(i => string.Join("\n", chosen.Select(c => Facts[c](sources[i])))).ToList();
                if (keys.Distinct(StringComparer.OrdinalIgnoreCase).Count() == members.Count) break;
            }
            foreach (var i in members)
            {
                // The place and the portal have their own lines already; the others join on one.
                var parts = chosen.Where(c => c > 1).Select(c => Facts[c](sources[i])).Where(v => v.Length > 0).ToList();
                details[i] = parts.Count > 0 ? string.Join(" · ", parts) : null;
            }
        }
        return details;
    }

    /// <summary>"Madison, WI 53703", with whatever parts the directory has.</summary>
    public static string Where(SourceView source)
    {
        var region = string.Join(" ", new[] { source.State, source.Zip }.Where(s => !string.IsNullOrWhiteSpace(s)));
        return string.Join(", ", new[] { source.City, region }.Where(s => !string.IsNullOrWhiteSpace(s)));
    }

    // The directory's vendor slugs ("altera-digital-health") as a patient would read them.
    private static string VendorName(string vendor) => vendor switch
    {
        "epic" => "Epic",
        "cerner" => "Oracle Health",
        "athena" => "athenahealth",
        "eclinicalworks" => "eClinicalWorks",
        "meditech" => "MEDITECH",
        "unknown" => "",
        _ => string.Join(' ', vendor.Split('-', StringSplitOptions.RemoveEmptyEntries).Select(w => char.ToUpperInvariant(w[0]) + w[1..])),
    };

    private static string Host(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Host : url;

    private static string HostAndPath(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Host + uri.AbsolutePath.TrimEnd('/') : url;
}

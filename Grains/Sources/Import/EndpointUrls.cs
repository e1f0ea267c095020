using System.Text.RegularExpressions;

namespace PatientConnect.Grains.Sources.Import;

/// <summary>Normalised FHIR base URLs and the FHIR release they serve, judged from the URL alone.</summary>
public static partial class EndpointUrls
{
    /// <summary>
    /// <c>https://Host.Example:443/fhir/R4/</c> becomes <c>https://host.example/fhir/R4</c>: scheme and
    /// host lower case, default port, fragment and trailing slash dropped. The path keeps its case
    /// (some servers route on it). Null when the text is not an absolute http(s) URL, or is plain http
    /// and <paramref name="allowHttp"/> is false.
    /// </summary>
    public static string? Normalize(string? raw, bool allowHttp = false)
    {
        var text = raw?.Trim();
        if (string.IsNullOrEmpty(text) || !Uri.TryCreate(text, UriKind.Absolute, out var uri)) return null;
        if (uri.Scheme != Uri.UriSchemeHttps && !(allowHttp && uri.Scheme == Uri.UriSchemeHttp)) return null;
        if (string.IsNullOrEmpty(uri.Host) || !string.IsNullOrEmpty(uri.UserInfo)) return null;
        var port = uri.IsDefaultPort ? "" : ":" + uri.Port;
        var path = uri.AbsolutePath.TrimEnd('/');
        return $"{uri.Scheme}://{uri.IdnHost.ToLowerInvariant()}{port}{path}{uri.Query}";
    }

    /// <summary>The key two listings of the same endpoint share (source ids are derived from it the same way).</summary>
    public static string Key(string normalizedUrl) => normalizedUrl.ToLowerInvariant();

    /// <summary>
    /// True when the path names a release before R4: Epic's <c>/api/FHIR/DSTU2</c>, Cerner's
    /// <c>/dstu2/</c>, <c>/fhir/stu3</c> and the like. A URL with no release in it is taken as R4:
    /// that is what the lists publish today for patient access.
    /// </summary>
    public static bool NamesOlderRelease(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return false;
        return OlderRelease().IsMatch(uri.AbsolutePath);
    }

    /// <summary>A FHIR version string (<c>4.0.1</c>, <c>R4</c>, <c>1.0.2</c>, <c>DSTU2</c>) is R4 (4.0.x).</summary>
    public static bool IsR4Version(string? version)
    {
        var v = version?.Trim().ToLowerInvariant();
        return v is "r4" or "4.0" or "4" || (v is not null && v.StartsWith("4.0.", StringComparison.Ordinal));
    }

    /// <summary>Hosts that only exist inside someone's network (lists carry test and staging entries).</summary>
    public static bool IsPublicHost(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return false;
        var host = uri.Host;
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6) return false;
        if (!host.Contains('.')) return false;
        return !(host.EndsWith(".local", StringComparison.OrdinalIgnoreCase)
                 || host.EndsWith(".internal", StringComparison.OrdinalIgnoreCase)
                 || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
                 || host.EndsWith(".test", StringComparison.OrdinalIgnoreCase)
                 || host.EndsWith(".example", StringComparison.OrdinalIgnoreCase));
    }

    // A path segment (or its start) naming DSTU1/DSTU2/STU3/DSTU3 or R2/R3: "/DSTU2", "/dstu2/", "/fhir/stu3", "/r3/".
    [GeneratedRegex(@"/(dstu[123]|stu[123]|r[23])(?=/|$|[-_])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OlderRelease();

    /// <summary>Five-digit ZIP from "32073-3035", "02114" or " 2114 " (a lost leading zero); null otherwise.</summary>
    public static string? Zip(string? raw)
    {
        var text = raw?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        var digits = text.Split('-')[0].Trim();
        if (digits.Length is < 3 or > 9 || !digits.All(char.IsAsciiDigit)) return null;
        if (digits.Length == 9) return digits[..5];
        if (digits.Length == 4) return "0" + digits;
        return digits.Length == 5 ? digits : null;
    }
}

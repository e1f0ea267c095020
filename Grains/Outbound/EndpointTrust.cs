namespace PatientConnect.Grains.Outbound;

/// <summary>
/// Where a SMART discovery document may send us. The document decides where the client secret or
/// signed assertion goes and whose keys sign the id_token, and directories list tens of thousands of
/// servers, so an endpoint must be https and under the FHIR server's own registrable domain
/// (a base on fhir-myrecord.cerner.com may authorize at authorization.cerner.com) or under a domain the
/// operator trusts for the source's vendor. Plain http is accepted only for hosts the guard lets through
/// anyway: loopback when allowed (development), hosts the operator named.
/// </summary>
public static class EndpointTrust
{
    // Second-level labels under which country-code domains are sold (example.co.uk, example.com.au):
    // a short, deliberate stand-in for the public suffix list, enough for the registrable domain of EHR hosts.
    private static readonly HashSet<string> SecondLevelSuffixes = new(StringComparer.OrdinalIgnoreCase)
    {
        "co", "com", "org", "net", "gov", "ac", "edu", "nhs", "or", "ne", "go", "gv", "health",
    };

    /// <summary>Null when <paramref name="endpoint"/> may be used for the server at <paramref name="fhirBaseUrl"/>; otherwise why not.</summary>
    public static string? Check(string fhirBaseUrl, string endpoint, string? vendor, OutboundGuard guard)
    {
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || !Uri.TryCreate(fhirBaseUrl, UriKind.Absolute, out var fhir))
        {
            return "is not an absolute URL";
        }
        var host = uri.IdnHost.TrimEnd('.');
        var trustedHost = guard.IsAllowedHost(host)
                          || (guard.Options.AllowLoopback && OutboundGuard.CategoryOf(host) == "loopback");
        if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && trustedHost))
        {
            return $"uses {uri.Scheme}, not https";
        }
        var fhirHost = fhir.IdnHost.TrimEnd('.');
        if (trustedHost || host.Equals(fhirHost, StringComparison.OrdinalIgnoreCase)) return null;
        if (Uri.CheckHostName(host) == UriHostNameType.Dns && Uri.CheckHostName(fhirHost) == UriHostNameType.Dns
            && RegistrableDomain(host).Equals(RegistrableDomain(fhirHost), StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        foreach (var key in new[] { vendor, "*" })
        {
            if (key is null || !guard.Options.TrustedAuthorizationDomains.TryGetValue(key, out var domains)) continue;
            foreach (var domain in domains)
            {
                var d = domain.Trim().TrimStart('.').TrimEnd('.');
                if (d.Length > 0 && (host.Equals(d, StringComparison.OrdinalIgnoreCase) || host.EndsWith("." + d, StringComparison.OrdinalIgnoreCase)))
                {
                    return null;
                }
            }
        }
        return $"is on {host}, outside the domain of the FHIR server ({fhirHost})";
    }

    /// <summary>The last two labels, or three under a country code's second-level suffix (example.co.uk).</summary>
    public static string RegistrableDomain(string host)
    {
        var labels = host.TrimEnd('.').Split('.');
        if (labels.Length <= 2) return host;
        var take = labels[^1].Length == 2 && SecondLevelSuffixes.Contains(labels[^2]) ? 3 : 2;
        return string.Join('.', labels[^Math.Min(take, labels.Length)..]);
    }
}

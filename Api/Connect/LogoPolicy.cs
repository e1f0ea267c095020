namespace PatientConnect.Api.Connect;

/// <summary>
/// Which logos the hosted page may show: our own origin's (a path such as <c>/connect/assets/…</c>)
/// and https images on hosts the operator allow-lists (<c>PatientConnect:HostedPage:LogoHosts</c>).
/// Any other host could track patients (a request per page view, from their browser), so its logo is
/// left out; the page's Content-Security-Policy allows exactly the same hosts.
/// </summary>
public sealed class LogoPolicy(IReadOnlyCollection<string> hosts)
{
    public static readonly LogoPolicy None = new([]);

    public IReadOnlyCollection<string> Hosts { get; } = hosts;

    public string? Allow(string? url)
    {
        if (string.IsNullOrWhiteSpace(url)) return null;
        if (url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.Contains('\\')) return url;
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
            && string.IsNullOrEmpty(uri.UserInfo) && uri.IsDefaultPort
            && Hosts.Contains(uri.Host, StringComparer.OrdinalIgnoreCase)
            ? uri.AbsoluteUri
            : null;
    }

    /// <summary>The CSP img-src value: our origin and the allow-listed hosts, over https.</summary>
    public string ImageSources() => string.Join(' ', new[] { "'self'" }.Concat(Hosts.Select(h => "https://" + h)));
}

namespace PatientConnect.Api.Connect;

/// <summary>
/// The operator's settings of the hosted page (<c>PatientConnect:HostedPage:*</c>):
/// <c>ConnectableOnly</c> (default true) hides the sources no patient can connect yet;
/// <c>LogoHosts:N</c> allow-lists the https hosts logos may come from (none by default: only our origin's).
/// </summary>
public sealed record HostedPageSettings(bool ConnectableOnly, LogoPolicy Logos)
{
    public const string SectionName = "PatientConnect:HostedPage";

    public static HostedPageSettings From(IConfiguration configuration)
    {
        var section = configuration.GetSection(SectionName);
        var connectableOnly = !bool.TryParse(section["ConnectableOnly"], out var flag) || flag;
        // Only plain host names reach the page's Content-Security-Policy.
        var hosts = section.GetSection("LogoHosts").GetChildren()
            .Select(c => c.Value?.Trim().ToLowerInvariant())
            .Where(h => !string.IsNullOrEmpty(h) && Uri.CheckHostName(h) == UriHostNameType.Dns)
            .Cast<string>()
            .Distinct()
            .ToArray();
        return new HostedPageSettings(connectableOnly, new LogoPolicy(hosts));
    }
}

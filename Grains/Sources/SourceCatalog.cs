using Microsoft.Extensions.Configuration;
using PatientConnect.Sources;

namespace PatientConnect.Grains.Sources;

/// <summary>One directory entry: what the directory shows, plus our registration when we have one.</summary>
public sealed record SourceEntry(SourceView View, bool Hidden, SourceRegistration? Registration)
{
    public string Id => View.Id;
    public bool Connectable => Registration is not null;
}

/// <summary>
/// The directory, built once from the <c>Directory:Sources</c> configuration section. Singleton on
/// every silo; the directory grain and the session grains read it without a grain hop.
/// </summary>
public sealed class SourceCatalog
{
    public const string SectionName = "Directory:Sources";

    private readonly Dictionary<string, SourceEntry> _byId;

    public SourceCatalog(IEnumerable<SourceEntry> entries)
    {
        _byId = new Dictionary<string, SourceEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            // Two entries with the same FHIR base are the same source: the later one wins, as a
            // later configuration source overrides an earlier one.
            _byId[entry.Id] = entry;
        }
        Listed = _byId.Values
            .Where(e => !e.Hidden)
            .OrderBy(e => e.View.Name, StringComparer.OrdinalIgnoreCase)
            .ThenBy(e => e.Id, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>Every entry that search shows, ordered by name then id (the paging order).</summary>
    public IReadOnlyList<SourceEntry> Listed { get; }

    public int Count => _byId.Count;

    /// <summary>Any entry by id, hidden ones included (they are reachable by id, just not listed).</summary>
    public SourceEntry? Find(string? sourceId) =>
        sourceId is not null && _byId.TryGetValue(sourceId, out var entry) ? entry : null;

    public static SourceCatalog FromConfiguration(IConfiguration configuration)
    {
        var entries = new List<SourceEntry>();
        var section = configuration.GetSection(SectionName);
        foreach (var child in section.GetChildren())
        {
            entries.Add(Parse(child));
        }
        return new SourceCatalog(entries);
    }

    private static SourceEntry Parse(IConfigurationSection s)
    {
        var where = $"{SectionName}:{s.Key}";
        var fhirBase = s["FhirBaseUrl"]?.Trim();
        if (string.IsNullOrEmpty(fhirBase) || !Uri.TryCreate(fhirBase, UriKind.Absolute, out var baseUri)
            || (baseUri.Scheme != Uri.UriSchemeHttps && baseUri.Scheme != Uri.UriSchemeHttp))
        {
            throw new InvalidOperationException($"{where}:FhirBaseUrl must be an absolute http(s) URL.");
        }
        fhirBase = fhirBase.TrimEnd('/');
        var name = s["Name"]?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            throw new InvalidOperationException($"{where}:Name is required.");
        }

        SourceRegistration? registration = null;
        var clientId = s["ClientId"]?.Trim();
        if (!string.IsNullOrEmpty(clientId))
        {
            var method = (s["AuthMethod"]?.Trim().ToLowerInvariant()) switch
            {
                null or "" or "none" => ClientAuthMethod.None,
                "client_secret_basic" => ClientAuthMethod.ClientSecretBasic,
                "private_key_jwt" => ClientAuthMethod.PrivateKeyJwt,
                var other => throw new InvalidOperationException($"{where}:AuthMethod '{other}' is not one of none, client_secret_basic, private_key_jwt."),
            };
            var secret = Blank(s["ClientSecret"]);
            var pem = Blank(s["PrivateKeyPem"]);
            if (method == ClientAuthMethod.ClientSecretBasic && secret is null)
            {
                throw new InvalidOperationException($"{where}:ClientSecret is required for client_secret_basic.");
            }
            if (method == ClientAuthMethod.PrivateKeyJwt && pem is null)
            {
                throw new InvalidOperationException($"{where}:PrivateKeyPem is required for private_key_jwt.");
            }
            registration = new SourceRegistration(clientId, method, secret, pem, Blank(s["KeyId"]));
        }

        var view = new SourceView(
            Id: Ids.SourceIdFor(fhirBase),
            Name: name,
            Vendor: Blank(s["Vendor"])?.ToLowerInvariant() ?? "unknown",
            FhirBaseUrl: fhirBase,
            City: Blank(s["City"]),
            State: Blank(s["State"]),
            Zip: Blank(s["Zip"]),
            LogoUrl: Blank(s["LogoUrl"]),
            PortalUrl: Blank(s["PortalUrl"]),
            Connectable: registration is not null);
        var hidden = bool.TryParse(s["Hidden"], out var h) && h;
        return new SourceEntry(view, hidden, registration);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

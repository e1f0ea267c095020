using Microsoft.Extensions.Configuration;
using PatientConnect.Grains.Sources.Import;
using PatientConnect.Sources;

namespace PatientConnect.Grains.Sources;

/// <summary>One directory entry: what the directory shows, plus our registration when we have one.</summary>
public sealed record SourceEntry(SourceView View, bool Hidden, SourceRegistration? Registration)
{
    public string Id => View.Id;
    public bool Connectable => Registration is not null;

    /// <summary>Other names the source is found by (never shown as its name).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>Ids of base URLs merged into this source at import (the same organisation's same server).</summary>
    public IReadOnlyList<string> MergedIds { get; init; } = [];
}

/// <summary>
/// The directory, built once at start from the shipped snapshot (<c>Directory:SnapshotFile</c>) and
/// configuration: <c>Directory:Vendors:{vendor}:*</c> registers our client once for every source of a
/// vendor, <c>Directory:Sources:N:*</c> adds a source or overrides one of the snapshot's (matched by
/// <c>FhirBaseUrl</c> or <c>Id</c>). Singleton on every silo; the directory grain and the session
/// grains read it without a grain hop.
/// </summary>
public sealed class SourceCatalog
{
    public const string SectionName = "Directory:Sources";
    public const string VendorsSectionName = "Directory:Vendors";
    public const string SnapshotFileKey = "Directory:SnapshotFile";

    private readonly Dictionary<string, SourceEntry> _byId;
    private readonly Dictionary<string, string> _mergedInto = new(StringComparer.Ordinal);

    public SourceCatalog(IEnumerable<SourceEntry> entries)
    {
        _byId = new Dictionary<string, SourceEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            // Two entries with the same FHIR base are the same source: the later one wins, as a
            // later configuration source overrides an earlier one.
            _byId[entry.Id] = entry;
        }
        foreach (var entry in _byId.Values)
        {
            // An id of a base URL the import merged into this source (an app may have stored it) still finds it.
            foreach (var merged in entry.MergedIds)
            {
                if (!_byId.ContainsKey(merged)) _mergedInto[merged] = entry.Id;
            }
        }
        Listed = _byId.Values
            .Where(e => !e.Hidden)
            .OrderBy(e => e.View.Name, StringComparer.OrdinalIgnoreCase)
            .ThenBy(e => e.Id, StringComparer.Ordinal)
            .ToArray();
        Index = new SourceIndex(Listed);
    }

    /// <summary>Every entry that search shows, ordered by name then id (the paging order).</summary>
    public IReadOnlyList<SourceEntry> Listed { get; }

    /// <summary>The search over <see cref="Listed"/>.</summary>
    public SourceIndex Index { get; }

    public int Count => _byId.Count;

    /// <summary>Any entry by id, hidden ones included (they are reachable by id, just not listed).</summary>
    public SourceEntry? Find(string? sourceId)
    {
        if (sourceId is null) return null;
        if (_byId.TryGetValue(sourceId, out var entry)) return entry;
        return _mergedInto.TryGetValue(sourceId, out var into) ? _byId[into] : null;
    }

    public static SourceCatalog FromConfiguration(IConfiguration configuration)
    {
        var snapshot = LoadSnapshot(configuration);
        var vendors = VendorSettings(configuration);
        var drafts = new Dictionary<string, Draft>(StringComparer.Ordinal);
        foreach (var source in snapshot)
        {
            var draft = Draft.From(source);
            drafts[draft.Id] = draft;
        }
        foreach (var child in configuration.GetSection(SectionName).GetChildren())
        {
            Apply(child, drafts);
        }
        return new SourceCatalog(drafts.Values.Select(d => d.ToEntry(vendors)));
    }

    /// <summary>The snapshot's sources; none when the key is unset or empty.</summary>
    public static IReadOnlyList<SnapshotSource> LoadSnapshot(IConfiguration configuration)
    {
        var path = configuration[SnapshotFileKey]?.Trim();
        if (string.IsNullOrEmpty(path)) return [];
        var full = Path.IsPathRooted(path) ? path : Path.Combine(AppContext.BaseDirectory, path);
        if (!File.Exists(full))
        {
            throw new InvalidOperationException($"{SnapshotFileKey} points at {full}, which does not exist (set it empty to start without the snapshot).");
        }
        return DirectorySnapshot.Load(full).Sources;
    }

    /// <summary>A source being assembled: snapshot facts, then configuration on top.</summary>
    private sealed class Draft
    {
        public required string Id;
        public required string FhirBaseUrl;
        public required string Name;
        public required string Vendor;
        public List<string> Aliases = [];
        public string? City, State, Zip, LogoUrl, PortalUrl, PortalName;
        public IReadOnlyList<string> MergedIds = [];
        public bool Hidden;
        public SourceRegistration? Registration;

        public static Draft From(SnapshotSource s) => new()
        {
            Id = Ids.SourceIdFor(s.FhirBaseUrl),
            FhirBaseUrl = s.FhirBaseUrl,
            Name = s.Name,
            Vendor = s.Vendor,
            Aliases = s.Aliases.ToList(),
            City = s.City,
            State = s.State,
            Zip = s.Zip,
            LogoUrl = s.LogoUrl,
            PortalUrl = s.PortalUrl,
            PortalName = s.PortalName,
            MergedIds = s.MergedUrls?.Select(Ids.SourceIdFor).ToArray() ?? [],
        };

        public SourceEntry ToEntry(IReadOnlyDictionary<string, VendorSetting> vendors)
        {
            vendors.TryGetValue(Vendor, out var vendor);
            var registration = Registration ?? vendor?.Registration;
            var view = new SourceView(Id, Name, Vendor, FhirBaseUrl, City, State, Zip, LogoUrl, PortalUrl, registration is not null,
                PortalName: PortalName);
            return new SourceEntry(view, Hidden || (vendor?.Hidden ?? false), registration)
            {
                Aliases = Aliases.Where(a => !string.Equals(a, Name, StringComparison.OrdinalIgnoreCase)).ToArray(),
                MergedIds = MergedIds,
            };
        }
    }

    private sealed record VendorSetting(SourceRegistration? Registration, bool Hidden);

    private static Dictionary<string, VendorSetting> VendorSettings(IConfiguration configuration)
    {
        var vendors = new Dictionary<string, VendorSetting>(StringComparer.OrdinalIgnoreCase);
        foreach (var child in configuration.GetSection(VendorsSectionName).GetChildren())
        {
            var where = $"{VendorsSectionName}:{child.Key}";
            vendors[child.Key.Trim().ToLowerInvariant()] = new VendorSetting(Registration(child, where), Flag(child, "Hidden", where));
        }
        return vendors;
    }

    private static void Apply(IConfigurationSection s, Dictionary<string, Draft> drafts)
    {
        var where = $"{SectionName}:{s.Key}";
        var rawUrl = Blank(s["FhirBaseUrl"]);
        var givenId = Blank(s["Id"]);
        Draft? draft;
        if (rawUrl is not null)
        {
            // Operators may point at a local or test server: plain http is theirs to choose here.
            var url = EndpointUrls.Normalize(rawUrl, allowHttp: true)
                ?? throw new InvalidOperationException($"{where}:FhirBaseUrl must be an absolute http(s) URL.");
            var id = Ids.SourceIdFor(url);
            if (givenId is not null && givenId != id)
            {
                throw new InvalidOperationException($"{where}:Id {givenId} is not the id of {url} ({id}); give one or the other.");
            }
            if (!drafts.TryGetValue(id, out draft))
            {
                var name = Blank(s["Name"]) ?? throw new InvalidOperationException($"{where}:Name is required.");
                draft = new Draft { Id = id, FhirBaseUrl = url, Name = name, Vendor = "unknown" };
                drafts[id] = draft;
            }
        }
        else if (givenId is not null)
        {
            if (!drafts.TryGetValue(givenId, out draft))
            {
                throw new InvalidOperationException($"{where}:Id {givenId} is not a source of the directory snapshot.");
            }
        }
        else
        {
            throw new InvalidOperationException($"{where}:FhirBaseUrl must be an absolute http(s) URL.");
        }

        if (Blank(s["Name"]) is { } newName && newName != draft.Name)
        {
            // The snapshot's name stays findable: patients know it from the public lists.
            draft.Aliases.Insert(0, draft.Name);
            draft.Name = newName;
        }
        if (Blank(s["Vendor"]) is { } vendor) draft.Vendor = vendor.ToLowerInvariant();
        draft.City = Blank(s["City"]) ?? draft.City;
        draft.State = Blank(s["State"]) ?? draft.State;
        draft.Zip = Blank(s["Zip"]) ?? draft.Zip;
        draft.LogoUrl = Blank(s["LogoUrl"]) ?? draft.LogoUrl;
        draft.PortalUrl = Blank(s["PortalUrl"]) ?? draft.PortalUrl;
        draft.PortalName = Blank(s["PortalName"]) ?? draft.PortalName;
        foreach (var alias in s.GetSection("Aliases").GetChildren())
        {
            if (Blank(alias.Value) is { } a) draft.Aliases.Add(a);
        }
        if (s["Hidden"] is not null) draft.Hidden = Flag(s, "Hidden", where);
        draft.Registration = Registration(s, where) ?? draft.Registration;
    }

    /// <summary>A client registration from ClientId, AuthMethod, ClientSecret(File), PrivateKeyPem(File), KeyId; null without ClientId.</summary>
    private static SourceRegistration? Registration(IConfigurationSection s, string where)
    {
        var clientId = Blank(s["ClientId"]);
        if (clientId is null) return null;
        var method = (s["AuthMethod"]?.Trim().ToLowerInvariant()) switch
        {
            null or "" or "none" => ClientAuthMethod.None,
            "client_secret_basic" => ClientAuthMethod.ClientSecretBasic,
            "private_key_jwt" => ClientAuthMethod.PrivateKeyJwt,
            var other => throw new InvalidOperationException($"{where}:AuthMethod '{other}' is not one of none, client_secret_basic, private_key_jwt."),
        };
        // A secret or key may be given inline or as a file reference (a mounted secret).
        var secret = Blank(s["ClientSecret"]) ?? FromFile(s, "ClientSecretFile", where);
        var pem = Blank(s["PrivateKeyPem"]) ?? FromFile(s, "PrivateKeyPemFile", where);
        if (method == ClientAuthMethod.ClientSecretBasic && secret is null)
        {
            throw new InvalidOperationException($"{where}:ClientSecret is required for client_secret_basic.");
        }
        if (method == ClientAuthMethod.PrivateKeyJwt && pem is null)
        {
            throw new InvalidOperationException($"{where}:PrivateKeyPem is required for private_key_jwt.");
        }
        return new SourceRegistration(clientId, method, secret, pem, Blank(s["KeyId"]));
    }

    private static string? FromFile(IConfigurationSection s, string key, string where)
    {
        var path = Blank(s[key]);
        if (path is null) return null;
        if (!File.Exists(path)) throw new InvalidOperationException($"{where}:{key} points at {path}, which does not exist.");
        return Blank(File.ReadAllText(path));
    }

    private static bool Flag(IConfigurationSection s, string key, string where)
    {
        var value = Blank(s[key]);
        if (value is null) return false;
        return bool.TryParse(value, out var flag) ? flag : throw new InvalidOperationException($"{where}:{key} must be true or false.");
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

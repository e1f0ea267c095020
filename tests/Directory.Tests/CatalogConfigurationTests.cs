using Microsoft.Extensions.Configuration;
using PatientConnect.Grains.Sources;
using PatientConnect.Grains.Sources.Import;
using PatientConnect.Sources;

namespace PatientConnect.Directory.Tests;

/// <summary>Snapshot + configuration: vendor registrations, per-source overrides, hiding, additions.</summary>
public sealed class CatalogConfigurationTests : IDisposable
{
    private const string EpicUrl = "https://fhir.valley.example.org/api/FHIR/R4";
    private const string CernerUrl = "https://fhir-myrecord.cerner.com/r4/valley-kids";
    private readonly string _snapshot = Path.Combine(Path.GetTempPath(), $"directory-{Guid.NewGuid():N}.json.gz");

    public CatalogConfigurationTests()
    {
        new DirectorySnapshot
        {
            Sources =
            [
                new SnapshotSource { FhirBaseUrl = EpicUrl, Name = "Valley Health", Aliases = ["Valley Medical Center"], Vendor = "epic", Zip = "83702", State = "ID" },
                new SnapshotSource { FhirBaseUrl = CernerUrl, Name = "Valley Kids Clinic", Vendor = "cerner" },
            ],
        }.Save(_snapshot);
    }

    public void Dispose() => File.Delete(_snapshot);

    private SourceCatalog Catalog(Dictionary<string, string?> settings)
    {
        settings.TryAdd(SourceCatalog.SnapshotFileKey, _snapshot);
        return SourceCatalog.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
    }

    private static IReadOnlyList<SourceView> Search(SourceCatalog catalog, string? q = null, string? vendor = null) =>
        catalog.Index.Search(new SourceQuery(q, null, null, null, vendor, 100, null), 100, null).Items;

    [Fact]
    public void Snapshot_sources_without_a_registration_are_listed_but_not_connectable()
    {
        var catalog = Catalog([]);
        var valley = catalog.Find(Ids.SourceIdFor(EpicUrl));
        Assert.NotNull(valley);
        Assert.False(valley.Connectable);
        Assert.False(valley.View.Connectable);
        Assert.Null(valley.Registration);
        Assert.Equal(2, Search(catalog).Count);
    }

    [Fact]
    public void A_vendor_registration_makes_every_source_of_that_vendor_connectable()
    {
        var catalog = Catalog(new()
        {
            ["Directory:Vendors:epic:ClientId"] = "our-epic-client",
            ["Directory:Vendors:epic:AuthMethod"] = "client_secret_basic",
            ["Directory:Vendors:epic:ClientSecret"] = "epic-secret",
        });
        var valley = catalog.Find(Ids.SourceIdFor(EpicUrl))!;
        Assert.True(valley.View.Connectable);
        Assert.Equal("our-epic-client", valley.Registration!.ClientId);
        Assert.Equal(ClientAuthMethod.ClientSecretBasic, valley.Registration.AuthMethod);
        Assert.False(catalog.Find(Ids.SourceIdFor(CernerUrl))!.Connectable);
    }

    [Fact]
    public void A_source_entry_overrides_the_snapshot_by_base_url_and_keeps_the_old_name_findable()
    {
        var catalog = Catalog(new()
        {
            ["Directory:Vendors:epic:ClientId"] = "vendor-client",
            // Same endpoint, written differently: matched after normalisation.
            ["Directory:Sources:0:FhirBaseUrl"] = "HTTPS://FHIR.Valley.Example.org/api/FHIR/R4/",
            ["Directory:Sources:0:Name"] = "Valley Health System",
            ["Directory:Sources:0:LogoUrl"] = "https://valley.example.org/logo.png",
            ["Directory:Sources:0:PortalUrl"] = "https://mychart.valley.example.org",
            ["Directory:Sources:0:ClientId"] = "source-client",
        });
        Assert.Equal(2, catalog.Count);
        var valley = catalog.Find(Ids.SourceIdFor(EpicUrl))!;
        Assert.Equal("Valley Health System", valley.View.Name);
        Assert.Equal("https://valley.example.org/logo.png", valley.View.LogoUrl);
        Assert.Equal("https://mychart.valley.example.org", valley.View.PortalUrl);
        Assert.Equal("83702", valley.View.Zip);
        Assert.Equal("source-client", valley.Registration!.ClientId); // per source beats per vendor
        var found = Assert.Single(Search(catalog, "valley health"), s => s.Id == valley.Id);
        Assert.Equal("Valley Health System", found.Name);
        var byOldName = Search(catalog, "valley health")[0];
        Assert.Equal(valley.Id, byOldName.Id);
        Assert.Equal("Valley Health", byOldName.MatchedName);
    }

    [Fact]
    public void A_source_can_be_hidden_by_id_and_stays_reachable_by_id()
    {
        var id = Ids.SourceIdFor(CernerUrl);
        var catalog = Catalog(new() { ["Directory:Sources:0:Id"] = id, ["Directory:Sources:0:Hidden"] = "true" });
        Assert.DoesNotContain(Search(catalog), s => s.Id == id);
        Assert.Empty(Search(catalog, "valley kids"));
        Assert.NotNull(catalog.Find(id));
    }

    [Fact]
    public void Configured_sources_are_added_beside_the_snapshot_and_an_empty_snapshot_key_disables_it()
    {
        var sandbox = new Dictionary<string, string?>
        {
            ["Directory:Sources:0:Name"] = "Riverside General Hospital",
            ["Directory:Sources:0:Vendor"] = "epic",
            ["Directory:Sources:0:FhirBaseUrl"] = "http://127.0.0.1:8090/hospitals/riverside/fhir",
            ["Directory:Sources:0:ClientId"] = "sandbox-public",
        };
        var both = Catalog(new(sandbox));
        Assert.Equal(3, both.Count);
        var riverside = both.Find(Ids.SourceIdFor("http://127.0.0.1:8090/hospitals/riverside/fhir"))!;
        Assert.True(riverside.Connectable);
        Assert.Equal("http://127.0.0.1:8090/hospitals/riverside/fhir", riverside.View.FhirBaseUrl);

        var alone = Catalog(new(sandbox) { [SourceCatalog.SnapshotFileKey] = "" });
        Assert.Equal(1, alone.Count);
    }

    [Theory]
    [InlineData("Directory:Sources:0:Id", "src_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "is not a source of the directory snapshot")]
    [InlineData("Directory:Sources:0:FhirBaseUrl", "not a url", "FhirBaseUrl must be an absolute http(s) URL")]
    [InlineData("Directory:Vendors:epic:AuthMethod", "magic", "AuthMethod 'magic'")]
    [InlineData(SourceCatalog.SnapshotFileKey, "/nonexistent/sources.json.gz", "does not exist")]
    public void Bad_configuration_fails_at_start_naming_the_key(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?> { [key] = value };
        if (key.Contains("Vendors", StringComparison.Ordinal)) settings["Directory:Vendors:epic:ClientId"] = "x";
        var e = Assert.Throws<InvalidOperationException>(() => Catalog(settings));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}

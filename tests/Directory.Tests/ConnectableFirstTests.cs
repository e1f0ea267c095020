using Microsoft.Extensions.Configuration;
using PatientConnect.Grains.Sources;
using PatientConnect.Sources;

namespace PatientConnect.Directory.Tests;

/// <summary>
/// What a patient can use comes first: the shipped snapshot with the development set-up's sources
/// (config/sources.sandbox.json, as ./run.sh loads it) on top.
/// </summary>
public sealed class ConnectableFirstTests
{
    private static readonly Lazy<SourceCatalog> Development = new(() => SourceCatalog.FromConfiguration(new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { [SourceCatalog.SnapshotFileKey] = Samples.ShippedSnapshot })
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "Shipped", "sources.sandbox.json"), optional: false)
        .Build()));

    private static IReadOnlyList<SourceView> Search(SourceCatalog catalog, string? q, bool connectableOnly = false, int limit = 20) =>
        catalog.Index.Search(new SourceQuery(q, null, null, null, null, limit, null, connectableOnly), limit, null).Items;

    [Theory]
    [InlineData("river")]
    [InlineData("riverside")]
    [InlineData("Riverside")]
    public void Riverside_General_Hospital_comes_first_though_the_directory_has_other_rivers(string query)
    {
        var results = Search(Development.Value, query);
        Assert.True(results.Count > 5, $"'{query}' should match more than the sandbox: {results.Count}");
        Assert.Equal("Riverside General Hospital", results[0].Name);
        Assert.True(results[0].Connectable);
        // The rest of the page is still there, below it.
        Assert.Contains(results.Skip(1), r => !r.Connectable);
    }

    [Theory]
    [InlineData("Riverside General Hospital")]
    [InlineData("Lakeside Medical Center")]
    [InlineData("Summit Health Plan")]
    public void Every_prefix_of_a_sandbox_hospital_name_shows_it_among_the_first_results(string name)
    {
        for (var length = 1; length <= name.Length; length++)
        {
            var prefix = name[..length];
            if (string.IsNullOrWhiteSpace(prefix[^1..])) continue;
            var shown = Search(Development.Value, prefix, limit: 3).Select(r => r.Name).ToList();
            Assert.True(shown.Contains(name), $"'{prefix}' shows: {string.Join(" | ", shown)}");
            var connectable = Search(Development.Value, prefix, connectableOnly: true);
            Assert.Contains(name, connectable.Select(r => r.Name));
            Assert.All(connectable, r => Assert.True(r.Connectable, r.Name));
        }
    }

    [Fact]
    public void Only_connectable_leaves_just_the_sandbox_hospitals_when_nothing_else_is_registered()
    {
        var all = Development.Value.Index.Search(new SourceQuery(null, null, null, null, null, 100, null, ConnectableOnly: true), 100, null);
        Assert.Equal(["Lakeside Medical Center", "Northgate Community Hospital", "Riverside General Hospital", "Summit Health Plan"], all.Items.Select(s => s.Name));
        Assert.False(all.More);
    }

    [Fact]
    public void A_connectable_source_does_not_jump_a_stronger_match()
    {
        // "lakeview" is a word of two names and only the town of the third: the names the patient
        // typed come first, connectable among them first, whether or not the town's clinic can be connected;
        // a typo is a weaker match too.
        var catalog = new SourceCatalog(
        [
            Entry("https://a.example.org/r4", "Lakeview Clinic", connectable: false),
            Entry("https://b.example.org/r4", "North Clinic", connectable: true, city: "Lakeview"),
            Entry("https://c.example.org/r4", "Lakeview Clinic of the North", connectable: true),
            Entry("https://d.example.org/r4", "Lakeviev Hospital", connectable: true),
        ]);
        Assert.Equal(["Lakeview Clinic of the North", "Lakeview Clinic", "North Clinic"], Search(catalog, "lakeview").Select(r => r.Name));
        Assert.Equal(["Lakeviev Hospital"], Search(catalog, "lakeviev").Select(r => r.Name));
        // Only typos ("lakevoew" is one letter from "lakeview"): all equally weak, so connectable first.
        Assert.Equal(["Lakeview Clinic of the North", "North Clinic", "Lakeview Clinic"],
            Search(catalog, "lakevoew").Select(r => r.Name));
    }

    private static SourceEntry Entry(string url, string name, bool connectable, string? city = null) =>
        new(new SourceView(Ids.SourceIdFor(url), name, "epic", url, city, null, null, null, null, connectable), false,
            connectable ? new SourceRegistration("client", ClientAuthMethod.None, null, null, null) : null);
}

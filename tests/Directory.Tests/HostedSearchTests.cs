using Microsoft.Extensions.Configuration;
using PatientConnect.Api.Connect;
using PatientConnect.Common;
using PatientConnect.Grains.Sources;
using PatientConnect.Sessions;
using PatientConnect.Sources;

namespace PatientConnect.Directory.Tests;

/// <summary>What the hosted page lists, over the shipped snapshot with the development set-up's sources.</summary>
public sealed class HostedSearchTests
{
    private static readonly Lazy<SourceCatalog> Development = new(() => SourceCatalog.FromConfiguration(new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { [SourceCatalog.SnapshotFileKey] = Samples.ShippedSnapshot })
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "Shipped", "sources.sandbox.json"), optional: false)
        .Build()));

    /// <summary>The directory grain's answers, straight from the catalog (no silo needed).</summary>
    private sealed class Directory(SourceCatalog catalog) : ISourceDirectoryGrain
    {
        public Task<Page<SourceView>> Search(SourceQuery query)
        {
            var (items, more) = catalog.Index.Search(query, query.Limit, query.Cursor);
            return Task.FromResult(new Page<SourceView>(items, more ? items[^1].Id : null));
        }

        public Task<SourceView?> Get(string sourceId) => Task.FromResult(catalog.Find(sourceId)?.View);

        public Task<IReadOnlyList<SourceView>> GetMany(IReadOnlyList<string> sourceIds) =>
            Task.FromResult<IReadOnlyList<SourceView>>(sourceIds.Select(catalog.Find).OfType<SourceEntry>().Select(e => e.View).ToList());
    }

    private static HostedPageSettings Settings(params (string Key, string Value)[] values) =>
        HostedPageSettings.From(new ConfigurationBuilder()
            .AddInMemoryCollection(values.ToDictionary(v => $"{HostedPageSettings.SectionName}:{v.Key}", v => (string?)v.Value)).Build());

    private static ConnectPage Page(IReadOnlyList<string>? recommended = null, PatientHints? hints = null) =>
        new("ps_x", SessionStatus.Open, null, recommended ?? [], "https://app.example/back", DateTimeOffset.UtcNow.AddHours(1), hints);

    private static string Id(string name) => Development.Value.Listed.First(s => s.View.Name == name).Id;

    [Fact]
    public async Task Connectable_only_is_the_default_and_the_empty_page_lists_the_development_hospitals()
    {
        var settings = Settings();
        Assert.True(settings.ConnectableOnly);
        var view = await HostedSearch.ViewAsync(new Directory(Development.Value), Page(), null, null, settings);
        Assert.Equal(["Lakeside Medical Center", "Northgate Community Hospital", "Riverside General Hospital", "Summit Health Plan"], view.Results.Select(s => s.Name));
        Assert.False(view.Prompt);
    }

    [Fact]
    public async Task With_every_source_shown_the_empty_page_asks_to_type_instead_of_listing_the_directory()
    {
        var settings = Settings(("ConnectableOnly", "false"));
        var view = await HostedSearch.ViewAsync(new Directory(Development.Value), Page(), null, null, settings);
        Assert.Empty(view.Results);
        Assert.True(view.Prompt);

        // Typing shows everything that matches, what can be connected first.
        var river = await HostedSearch.ViewAsync(new Directory(Development.Value), Page(), "river", null, settings);
        Assert.Equal("Riverside General Hospital", river.Results[0].Name);
        Assert.Contains(river.Results, s => !s.Connectable);
    }

    [Fact]
    public async Task Recommended_then_nearby_then_the_rest_each_once()
    {
        var view = await HostedSearch.ViewAsync(new Directory(Development.Value), Page([Id("Summit Health Plan")], new PatientHints(null, "MO", null)), null, null, Settings());
        Assert.Equal(["Summit Health Plan"], view.Recommended.Select(s => s.Name));
        Assert.Equal(["Lakeside Medical Center"], view.Near.Select(s => s.Name));
        Assert.Equal(["Northgate Community Hospital", "Riverside General Hospital"], view.Results.Select(s => s.Name));

        // A recommended source the page hides (not connectable) is not shown either.
        var stanford = Development.Value.Index.Search(new SourceQuery("stanford health care", null, null, null, null, 1, null), 1, null).Items[0].Id;
        var hidden = await HostedSearch.ViewAsync(new Directory(Development.Value), Page([stanford]), null, null, Settings());
        Assert.Empty(hidden.Recommended);

        // Typed words: the matches alone, a recommended one first among them.
        var typed = await HostedSearch.ViewAsync(new Directory(Development.Value), Page([Id("Summit Health Plan")]), "h", null, Settings());
        Assert.Empty(typed.Recommended);
        Assert.Equal("Summit Health Plan", typed.Results[0].Name);
    }

    [Fact]
    public void Only_plain_host_names_become_logo_hosts()
    {
        var settings = Settings(("LogoHosts:0", "logos.example.org"), ("LogoHosts:1", "evil.example; script-src *"), ("LogoHosts:2", "https://x.example"), ("LogoHosts:3", "LOGOS.example.org"));
        Assert.Equal(["logos.example.org"], settings.Logos.Hosts);
    }
}

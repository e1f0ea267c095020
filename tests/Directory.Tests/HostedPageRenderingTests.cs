using System.Net;
using Microsoft.Extensions.Configuration;
using System.Text.RegularExpressions;
using PatientConnect.Api.Connect;
using PatientConnect.Grains.Sources;
using PatientConnect.Sources;

namespace PatientConnect.Directory.Tests;

/// <summary>How the hosted page shows directory entries: lookalikes told apart, portals and logos.</summary>
public sealed partial class HostedPageRenderingTests(ShippedDirectory shipped)
{
    private const string Session = "ps_00000000000000000000000000000000";

    [Fact]
    public void Same_name_entries_in_one_result_page_always_show_a_distinguishing_line()
    {
        // Every name the shipped directory lists more than once, searched as a patient would type it.
        var names = shipped.Catalog.Listed.GroupBy(s => s.View.Name, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(names.Count > 500, $"{names.Count} shared names");
        var pagesWithLookalikes = 0;
        foreach (var name in names)
        {
            var page = shipped.Catalog.Index.Search(new SourceQuery(name, null, null, null, null, 20, null), 20, null).Items;
            var html = ConnectHtml.ResultsFragment(PageText.English, Session, new SearchView(name, [], [], page, null, false), LogoPolicy.None);
            var shown = Items().Matches(html).Select(m => (Name: Decode(m.Groups["name"].Value), Lines: Decode(Regex.Replace(m.Groups["rest"].Value, "<[^>]+>", "|"))))
                .ToList();
            Assert.Equal(page.Count, shown.Count);
            foreach (var group in shown.GroupBy(s => s.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
            {
                pagesWithLookalikes++;
                var lines = group.Select(s => s.Lines).ToList();
                Assert.True(lines.Distinct(StringComparer.OrdinalIgnoreCase).Count() == lines.Count,
                    $"'{name}': entries named {group.Key} look alike: {string.Join(" / ", lines)}");
            }
        }
        Assert.True(pagesWithLookalikes > 500, $"{pagesWithLookalikes} pages with lookalikes checked");
    }

    [Fact]
    public void The_distinguishing_line_names_the_fewest_facts_that_differ()
    {
        SourceView Entry(string url, string? city = null, string? state = null, string? portal = null, string vendor = "epic") =>
            new(Ids.SourceIdFor(url), "Northwell", vendor, url, city, state, null, null, null, true, PortalName: portal);
        // Places differ: the place line already tells them apart.
        Assert.Equal([null, null], Lookalikes.Details([Entry("https://a.example.org/fhir", "Albany", "NY"), Entry("https://b.example.org/fhir", "Troy", "NY")]));
        // Same place, different portals: the portal line does it.
        Assert.Equal([null, null], Lookalikes.Details([Entry("https://a.example.org/fhir", portal: "MyChart"), Entry("https://b.example.org/fhir", portal: "FollowMyHealth")]));
        // Nothing but the server: its host, or host and path when they share the host.
        Assert.Equal(["a.example.org", "b.example.org"], Lookalikes.Details([Entry("https://a.example.org/fhir"), Entry("https://b.example.org/fhir")]));
        Assert.Equal(["a.example.org/one/fhir", "a.example.org/two/fhir"], Lookalikes.Details([Entry("https://a.example.org/one/fhir"), Entry("https://a.example.org/two/fhir")]));
        // Vendors differ: a vendor name a patient may recognise.
        Assert.Equal(["Epic", "Oracle Health"], Lookalikes.Details([Entry("https://a.example.org/fhir"), Entry("https://b.example.org/fhir", vendor: "cerner")]));
    }

    [Fact]
    public void Portal_names_and_logos_show_only_from_our_origin_or_an_allow_listed_host()
    {
        SourceView Entry(string name, string? logo) =>
            new(Ids.SourceIdFor($"https://{name}.example.org/fhir"), name, "epic", $"https://{name}.example.org/fhir", null, null, null, logo, null, true, PortalName: "MyChart");
        var logos = new LogoPolicy(["logos.example.org"]);
        var html = ConnectHtml.ResultsFragment(PageText.English, Session, new SearchView("x", [], [],
        [
            Entry("own", "/connect/assets/logos/riverside.svg"),
            Entry("listed", "https://logos.example.org/a.png"),
            Entry("tracker", "https://tracker.example.com/pixel.png"),
            Entry("plain", "http://logos.example.org/a.png"),
            Entry("other", "//tracker.example.com/x.png"),
            Entry("script", "javascript:alert(1)"),
        ], null, false), logos);

        var sources = Regex.Matches(html, "<img [^>]*src=\"([^\"]+)\"").Select(m => Decode(m.Groups[1].Value)).ToList();
        Assert.Equal(["/connect/assets/logos/riverside.svg", "https://logos.example.org/a.png"], sources);
        Assert.DoesNotContain("tracker.example.com", html, StringComparison.Ordinal);
        Assert.Contains("referrerpolicy=\"no-referrer\"", html, StringComparison.Ordinal);
        Assert.Equal(6, Regex.Matches(html, "Patient portal: <span translate=\"no\">MyChart</span>").Count);
        Assert.Equal("'self' https://logos.example.org", logos.ImageSources());
    }

    [Fact]
    public void A_source_is_found_by_its_portal_name()
    {
        const string url = "https://fhir.northwind.example.org/r4";
        var catalog = new SourceCatalog([new SourceEntry(new SourceView(Ids.SourceIdFor(url), "Northwind Health", "epic", url, null, null, null, null, null, true,
            PortalName: "Northwind MyChart"), false, null)]);
        var found = catalog.Index.Search(new SourceQuery("mychart", null, null, null, null, 10, null), 10, null).Items;
        var northwind = Assert.Single(found);
        Assert.Equal("Northwind Health", northwind.Name);
        // The page shows the portal on its own line, not as "also known as".
        Assert.Null(northwind.MatchedName);
    }

    [Fact]
    public void Logo_files_are_served_by_plain_name_and_only_under_the_size_cap()
    {
        var folder = System.IO.Directory.CreateTempSubdirectory("logos-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "small.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
            File.WriteAllBytes(Path.Combine(folder, "big.png"), new byte[LogoFiles.MaxBytes + 1]);
            File.WriteAllBytes(Path.Combine(folder, "edge.png"), new byte[LogoFiles.MaxBytes]);
            var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["PatientConnect:HostedPage:LogoFolder"] = folder }).Build();
            var loggers = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
            bool Served(string file) => LogoFiles.Serve(file, configuration, loggers) is not Microsoft.AspNetCore.Http.HttpResults.NotFound;

            Assert.True(Served("small.svg"));
            Assert.True(Served("edge.png"));
            Assert.False(Served("big.png"));
            Assert.False(Served("missing.png"));
            Assert.False(Served("../small.svg"));
            Assert.False(Served("small.svg.html"));
        }
        finally
        {
            System.IO.Directory.Delete(folder, recursive: true);
        }
    }

    private static string Decode(string html) => WebUtility.HtmlDecode(html).Trim();

    [GeneratedRegex("<li>.*?<a class=\"source\"[^>]*>(?<name>[^<]*)</a>(?<rest>.*?)</li>", RegexOptions.Singleline)]
    private static partial Regex Items();
}

using PatientConnect.Grains.Sources;
using PatientConnect.Grains.Sources.Import;
using PatientConnect.Sources;

[assembly: AssemblyFixture(typeof(PatientConnect.Directory.Tests.ShippedDirectory))]

namespace PatientConnect.Directory.Tests;

/// <summary>Acceptance on the directory the project ships (data/directory/sources.json.gz).</summary>
public sealed class ShippedSnapshotTests(ShippedDirectory shipped)
{
    private SourceCatalog Catalog => shipped.Catalog;

    private IReadOnlyList<SourceView> Search(string? q = null, string? zip = null, string? vendor = null, string? state = null, int limit = 20) =>
        Catalog.Index.Search(new SourceQuery(q, null, state, zip, vendor, limit, null), limit, null).Items;

    [Fact]
    public void Holds_at_least_10000_distinct_R4_sources_from_at_least_5_vendors()
    {
        var listed = Catalog.Listed;
        Assert.True(listed.Count >= 10_000, $"{listed.Count} sources");
        var bigVendors = listed.GroupBy(s => s.View.Vendor).Where(g => g.Count() >= 100).Select(g => g.Key).ToList();
        Assert.True(bigVendors.Count >= 5, $"vendors with 100+ sources: {string.Join(", ", bigVendors)}");
        Assert.Contains("epic", bigVendors);
        Assert.Contains("cerner", bigVendors);
        TestContext.Current.TestOutputHelper?.WriteLine($"{listed.Count} sources, {Catalog.Index.DocumentCount} names, loaded in {shipped.LoadTime.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public void No_displayed_name_starts_or_ends_with_punctuation_noise()
    {
        var noisy = Catalog.Listed.Select(s => s.View.Name).Where(DisplayNames.HasEdgeNoise).Take(20).ToList();
        Assert.True(noisy.Count == 0, "noisy names: " + string.Join(" | ", noisy));
        // Nor doubled spaces, stray quotes or asterisks anywhere in a name.
        Assert.DoesNotContain(Catalog.Listed, s => s.View.Name.Contains("  ", StringComparison.Ordinal)
            || s.View.Name.IndexOfAny(['"', '*', '<', '>']) >= 0);
    }

    [Fact]
    public void Names_the_lists_shout_are_shown_in_a_readable_case_and_still_found_as_typed()
    {
        var shouted = Catalog.Listed.Count(s => s.View.Name.Length > 12 && s.View.Name.Count(char.IsLetter) > 10 && !s.View.Name.Any(char.IsLower));
        Assert.True(shouted < Catalog.Listed.Count / 100, $"{shouted} names still all in capitals");
        var gift = Search("\"GIFT OF LIFE\" PROGRAM");
        Assert.Equal("Gift of Life Program", gift[0].Name);
    }

    [Fact]
    public void Has_no_DSTU2_or_plain_http_endpoint()
    {
        Assert.All(Catalog.Listed, s =>
        {
            Assert.False(EndpointUrls.NamesOlderRelease(s.View.FhirBaseUrl), s.View.FhirBaseUrl);
            Assert.DoesNotContain("dstu2", s.View.FhirBaseUrl, StringComparison.OrdinalIgnoreCase);
            Assert.StartsWith("https://", s.View.FhirBaseUrl, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Has_no_duplicate_base_url()
    {
        var urls = Catalog.Listed.Select(s => s.View.FhirBaseUrl).ToList();
        Assert.Equal(urls.Count, urls.Select(u => u.TrimEnd('/').ToLowerInvariant()).Distinct().Count());
        Assert.All(urls, u => Assert.Equal(EndpointUrls.Normalize(u), u));
        Assert.Equal(urls.Count, Catalog.Listed.Select(s => s.Id).Distinct().Count());
    }

    [Theory]
    // exact
    [InlineData("Stanford Health Care", "Stanford Health Care")]
    [InlineData("mayo clinic", "Mayo Clinic")]
    [InlineData("Cleveland Clinic", "Cleveland Clinic")]
    [InlineData("Johns Hopkins Medicine", "Johns Hopkins Medicine")]
    [InlineData("Mass General Brigham", "Mass General Brigham")]
    // prefix, as typed
    [InlineData("stanford hea", "Stanford Health Care")]
    [InlineData("mayo cl", "Mayo Clinic")]
    [InlineData("johns hop", "Johns Hopkins Medicine")]
    [InlineData("mass gen", "Mass General Brigham")]
    // misspelled
    [InlineData("stanferd health", "Stanford Health Care")]
    [InlineData("stanford helth care", "Stanford Health Care")]
    [InlineData("mayo clinik", "Mayo Clinic")]
    [InlineData("clevland clinic", "Cleveland Clinic")]
    [InlineData("jonhs hopkins medicine", "Johns Hopkins Medicine")]
    public void Well_known_names_come_first(string query, string expected)
    {
        var results = Search(query);
        Assert.NotEmpty(results);
        Assert.True(results[0].Name == expected, $"'{query}' gave: {string.Join(" | ", results.Take(5).Select(r => r.Name))}");
    }

    [Fact]
    public void A_practice_on_a_shared_endpoint_is_found_by_its_own_name()
    {
        var first = Search("Sollus Pediatrics")[0];
        Assert.Equal("athenahealth", first.Name);
        Assert.Equal("NC - Sollus Pediatrics", first.MatchedName);
    }

    [Fact]
    public void Zip_filter_takes_the_exact_code_or_its_three_digit_area()
    {
        var zip = Catalog.Listed.Select(s => s.View.Zip).OfType<string>().GroupBy(z => z).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        var exact = All(new SourceQuery(null, null, null, zip, null, 100, null));
        Assert.NotEmpty(exact);
        Assert.All(exact, s => Assert.Equal(zip, s.Zip));
        Assert.Equal(Catalog.Listed.Count(s => s.View.Zip == zip), exact.Count);

        var area = All(new SourceQuery(null, null, null, zip[..3], null, 100, null));
        Assert.All(area, s => Assert.StartsWith(zip[..3], s.Zip!, StringComparison.Ordinal));
        Assert.True(area.Count > exact.Count, $"{area.Count} in {zip[..3]}xx, {exact.Count} in {zip}");
        Assert.Equal(Catalog.Listed.Count(s => s.View.Zip?.StartsWith(zip[..3], StringComparison.Ordinal) == true), area.Count);

        // A ZIP typed in the search box filters the same way.
        Assert.All(Search($"clinic {zip[..3]}", limit: 100), s => Assert.StartsWith(zip[..3], s.Zip!, StringComparison.Ordinal));
    }

    [Fact]
    public void Vendor_and_state_filters_keep_only_matching_sources()
    {
        var epic = All(new SourceQuery(null, null, null, null, "Epic", 100, null));
        Assert.Equal(Catalog.Listed.Count(s => s.View.Vendor == "epic"), epic.Count);
        Assert.All(epic, s => Assert.Equal("epic", s.Vendor));

        var kaiser = Search("kaiser permanente", vendor: "epic");
        Assert.True(kaiser.Count >= 5);
        Assert.All(kaiser, s => Assert.Equal("epic", s.Vendor));
        Assert.All(kaiser.Take(5), s => Assert.StartsWith("Kaiser Permanente", s.Name, StringComparison.Ordinal));

        var wisconsin = Search("clinic", state: "wi", limit: 50);
        Assert.NotEmpty(wisconsin);
        Assert.All(wisconsin, s => Assert.Equal("WI", s.State));
    }

    [Fact]
    public void Paging_the_whole_directory_visits_every_source_once_in_name_order()
    {
        var seen = All(new SourceQuery(null, null, null, null, null, 100, null));
        Assert.Equal(Catalog.Listed.Count, seen.Count);
        Assert.Equal(seen.Count, seen.Select(s => s.Id).Distinct().Count());
        Assert.Equal(Catalog.Listed.Select(s => s.Id), seen.Select(s => s.Id));
    }

    [Fact]
    public void Paging_a_ranked_search_visits_every_match_once_in_the_same_order_as_one_big_page()
    {
        var paged = All(new SourceQuery("medical center", null, null, null, null, 7, null));
        Assert.True(paged.Count > 100, $"{paged.Count} matches");
        Assert.Equal(paged.Count, paged.Select(s => s.Id).Distinct().Count());
        var firstHundred = Catalog.Index.Search(new SourceQuery("medical center", null, null, null, null, 100, null), 100, null).Items;
        Assert.Equal(firstHundred.Select(s => s.Id), paged.Take(100).Select(s => s.Id));
    }

    [Fact]
    public void The_same_query_gives_the_same_order_every_time_and_on_a_fresh_index()
    {
        var again = new SourceIndex(Catalog.Listed);
        foreach (var q in new[] { "health", "st", "clinic", "stanferd" })
        {
            var query = new SourceQuery(q, null, null, null, null, 100, null);
            var one = Catalog.Index.Search(query, 100, null).Items.Select(s => s.Id).ToList();
            Assert.Equal(one, Catalog.Index.Search(query, 100, null).Items.Select(s => s.Id));
            Assert.Equal(one, again.Search(query, 100, null).Items.Select(s => s.Id));
        }
    }

    [Fact]
    public void A_cursor_from_another_query_is_refused()
    {
        var page = Catalog.Index.Search(new SourceQuery("stanford", null, null, null, null, 1, null), 1, null);
        var e = Assert.Throws<PatientConnect.Common.InvalidFieldException>(() =>
            Catalog.Index.Search(new SourceQuery("cleveland clinic", null, null, null, null, 1, null), 1, page.Items[0].Id));
        Assert.Equal("cursor", e.Field);
    }

    private List<SourceView> All(SourceQuery query)
    {
        var all = new List<SourceView>();
        string? after = null;
        for (var pages = 0; pages < 10_000; pages++)
        {
            var (items, more) = Catalog.Index.Search(query, query.Limit, after);
            all.AddRange(items);
            if (!more) return all;
            after = items[^1].Id;
        }
        throw new InvalidOperationException("paging did not end");
    }
}

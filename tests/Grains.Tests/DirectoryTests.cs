using PatientConnect.Sources;

namespace PatientConnect.Grains.Tests;

public sealed class DirectoryTests(ClusterFixture f)
{
    private ISourceDirectoryGrain Directory => f.Grains.GetGrain<ISourceDirectoryGrain>(0);

    private static SourceQuery Query(string? q = null, string? city = null, string? state = null, string? zip = null,
        string? vendor = null, int limit = 0, string? cursor = null) => new(q, city, state, zip, vendor, limit, cursor);

    [Fact]
    public async Task Search_is_case_insensitive_over_names_and_ordered_by_name()
    {
        var page = await Directory.Search(Query(q: "HOSP"));
        Assert.Equal(["Downtown Hospital", "Riverside General Hospital"], page.Data.Select(s => s.Name));
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task Hidden_sources_are_not_listed_but_can_be_fetched_by_id()
    {
        var all = await Directory.Search(Query(limit: 100));
        Assert.DoesNotContain(all.Data, s => s.Name == "Hidden Lab");
        Assert.Equal(6, all.Data.Count);
        Assert.NotNull(await Directory.Get(f.SourceId("hidden")));
    }

    [Fact]
    public async Task Filters_narrow_by_city_state_zip_prefix_and_vendor()
    {
        Assert.Equal(3, (await Directory.Search(Query(city: "madison"))).Data.Count);
        Assert.Equal(["Legacy Clinic"], (await Directory.Search(Query(zip: "5371"))).Data.Select(s => s.Name));
        Assert.Equal(["Lakeside Medical Center", "Unregistered Clinic"], (await Directory.Search(Query(vendor: "Cerner"))).Data.Select(s => s.Name));
        Assert.Equal(["Keyed Health"], (await Directory.Search(Query(state: "ct"))).Data.Select(s => s.Name));
    }

    [Fact]
    public async Task Paging_walks_every_source_once_in_order()
    {
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Directory.Search(Query(limit: 4, cursor: cursor));
            Assert.True(page.Data.Count <= 4);
            seen.AddRange(page.Data.Select(s => s.Name));
            cursor = page.NextCursor;
            pages++;
        } while (cursor is not null && pages < 10);
        Assert.Equal(2, pages);
        Assert.Equal(seen.OrderBy(n => n, StringComparer.OrdinalIgnoreCase), seen);
        Assert.Equal(6, seen.Distinct().Count());
    }

    [Fact]
    public async Task A_forged_cursor_is_refused()
    {
        var e = await Assert.ThrowsAsync<PatientConnect.Common.InvalidFieldException>(() => Directory.Search(Query(cursor: "bm90LWFuLWlk")));
        // The field travels as a member of the typed refusal, not inside the message text.
        Assert.Equal("cursor", e.Field);
    }

    [Fact]
    public async Task Views_carry_no_registration_and_say_whether_connectable()
    {
        var lakeside = await Directory.Get(f.SourceId("lakeside"));
        Assert.NotNull(lakeside);
        Assert.True(lakeside.Connectable);
        Assert.Equal(f.Ehr.FhirBase("lakeside"), lakeside.FhirBaseUrl);
        Assert.DoesNotContain("s3cret", lakeside.ToString());
        Assert.False((await Directory.Get(f.SourceId("unregistered")))!.Connectable);
    }

    [Fact]
    public async Task GetMany_keeps_the_order_asked_and_skips_unknown_ids()
    {
        var many = await Directory.GetMany([f.SourceId("lakeside"), "src_unknown", f.SourceId("riverside")]);
        Assert.Equal(["Lakeside Medical Center", "Riverside General Hospital"], many.Select(s => s.Name));
    }
}

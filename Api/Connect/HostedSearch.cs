using PatientConnect.Sessions;
using PatientConnect.Sources;

namespace PatientConnect.Api.Connect;

/// <summary>
/// What the search page lists for a query. With words typed: the directory's best matches, the app's
/// recommended ones among them first. With none,
/// never the directory A to Z: the app's recommended sources, then sources near the patient when the
/// app said where they live, then every source a patient can connect when they fit on one page (a
/// small deployment, the development set-up), and otherwise a prompt to type.
/// </summary>
public static class HostedSearch
{
    public const int ResultsPerPage = 20;
    public const int NearbyCount = 10;

    public static async Task<SearchView> ViewAsync(
        ISourceDirectoryGrain directory, ConnectPage page, string? query, string? cursor, HostedPageSettings settings)
    {
        var firstPage = cursor is null;
        if (query is not null)
        {
            // Typed words: the matches alone, the app's recommended ones among them first.
            var results = await SearchAsync(directory, new SourceQuery(query, null, null, null, null, ResultsPerPage, cursor, settings.ConnectableOnly));
            var data = results.Data;
            if (firstPage && page.RecommendedSourceIds.Count > 0)
            {
                var wanted = page.RecommendedSourceIds.ToHashSet(StringComparer.Ordinal);
                data = [.. data.Where(s => wanted.Contains(s.Id)), .. data.Where(s => !wanted.Contains(s.Id))];
            }
            return new SearchView(query, [], [], data, results.NextCursor, Prompt: false);
        }

        var recommended = firstPage && page.RecommendedSourceIds.Count > 0
            ? (await directory.GetMany(page.RecommendedSourceIds)).Where(s => s.Connectable || !settings.ConnectableOnly).ToList()
            : [];
        // Each source is shown once: recommended at the top, then nearby, then the rest.
        var shown = recommended.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);

        var near = firstPage ? await NearAsync(directory, page.Hints, settings) : [];
        near = Without(near, shown);
        foreach (var s in near) shown.Add(s.Id);

        IReadOnlyList<SourceView> available = [];
        string? next = null;
        if (settings.ConnectableOnly)
        {
            var all = await SearchAsync(directory, new SourceQuery(null, null, null, null, null, ResultsPerPage, cursor, ConnectableOnly: true));
            // A whole directory of connectable sources is no list to scroll: then the patient types.
            if (all.NextCursor is null || !firstPage)
            {
                available = Without(all.Data, shown);
                next = all.NextCursor;
            }
        }
        var prompt = available.Count == 0;
        return new SearchView(null, recommended, near, available, next, prompt);
    }

    /// <summary>Sources in the patient's ZIP area (its first three digits), else in their state.</summary>
    private static async Task<IReadOnlyList<SourceView>> NearAsync(ISourceDirectoryGrain directory, PatientHints? hints, HostedPageSettings settings)
    {
        if (hints?.Zip is { Length: >= 3 } zip)
        {
            var area = await directory.Search(new SourceQuery(null, null, null, zip[..3], null, NearbyCount, null, settings.ConnectableOnly));
            if (area.Data.Count > 0) return area.Data;
        }
        if (hints?.State is { } state)
        {
            return (await directory.Search(new SourceQuery(null, null, state, null, null, NearbyCount, null, settings.ConnectableOnly))).Data;
        }
        return [];
    }

    private static List<SourceView> Without(IReadOnlyList<SourceView> sources, HashSet<string> shown) =>
        sources.Where(s => !shown.Contains(s.Id)).ToList();

    // A patient's page never fails on a stale or edited "More results" link: it starts the list over.
    private static async Task<Common.Page<SourceView>> SearchAsync(ISourceDirectoryGrain directory, SourceQuery query)
    {
        try
        {
            return await directory.Search(query);
        }
        catch (Common.InvalidFieldException e) when (e.Field == "cursor" && query.Cursor is not null)
        {
            return await directory.Search(query with { Cursor = null });
        }
    }
}

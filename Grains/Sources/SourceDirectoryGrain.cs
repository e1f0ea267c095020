using PatientConnect.Common;
using PatientConnect.Grains.Common;
using PatientConnect.Sources;

namespace PatientConnect.Grains.Sources;

/// <summary>
/// The directory over the in-memory catalog. A stateless worker: each silo answers locally and can
/// run several activations, since there is nothing to coordinate.
/// </summary>
[StatelessWorker]
public sealed class SourceDirectoryGrain(SourceCatalog catalog) : Grain, ISourceDirectoryGrain
{
    public Task<Page<SourceView>> Search(SourceQuery query)
    {
        var limit = Cursors.Clamp(query.Limit);
        var listed = catalog.Listed;
        var start = 0;
        if (!string.IsNullOrEmpty(query.Cursor))
        {
            var lastId = Cursors.Decode(query.Cursor);
            var index = IndexOf(listed, lastId);
            if (index < 0) throw new ArgumentException("The cursor is not one this list issued.", "cursor");
            start = index + 1;
        }

        var q = query.Q?.Trim();
        var page = new List<SourceView>(limit);
        string? next = null;
        for (var i = start; i < listed.Count; i++)
        {
            var view = listed[i].View;
            if (!Matches(view, q, query)) continue;
            if (page.Count == limit)
            {
                // One more match exists beyond this page: the cursor names the page's last item.
                next = Cursors.Encode(page[^1].Id);
                break;
            }
            page.Add(view);
        }
        return Task.FromResult(new Page<SourceView>(page, next));
    }

    public Task<SourceView?> Get(string sourceId) => Task.FromResult(catalog.Find(sourceId)?.View);

    public Task<IReadOnlyList<SourceView>> GetMany(IReadOnlyList<string> sourceIds)
    {
        var views = new List<SourceView>(sourceIds.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in sourceIds)
        {
            if (seen.Add(id) && catalog.Find(id) is { } entry) views.Add(entry.View);
        }
        return Task.FromResult<IReadOnlyList<SourceView>>(views);
    }

    private static bool Matches(SourceView view, string? q, SourceQuery query)
    {
        if (!string.IsNullOrEmpty(q) && !view.Name.Contains(q, StringComparison.OrdinalIgnoreCase)) return false;
        if (!EqualsIfGiven(query.City, view.City)) return false;
        if (!EqualsIfGiven(query.State, view.State)) return false;
        if (!EqualsIfGiven(query.Vendor, view.Vendor)) return false;
        // A zip filter is a prefix so "537" finds the Madison area and "53703" the exact code.
        if (!string.IsNullOrWhiteSpace(query.Zip)
            && (view.Zip is null || !view.Zip.StartsWith(query.Zip.Trim(), StringComparison.OrdinalIgnoreCase))) return false;
        return true;
    }

    private static bool EqualsIfGiven(string? wanted, string? actual) =>
        string.IsNullOrWhiteSpace(wanted) || string.Equals(wanted.Trim(), actual, StringComparison.OrdinalIgnoreCase);

    private static int IndexOf(IReadOnlyList<SourceEntry> listed, string id)
    {
        for (var i = 0; i < listed.Count; i++)
        {
            if (listed[i].Id == id) return i;
        }
        return -1;
    }
}

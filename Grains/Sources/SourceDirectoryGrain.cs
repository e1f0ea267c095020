using PatientConnect.Common;
using PatientConnect.Grains.Common;
using PatientConnect.Sources;

namespace PatientConnect.Grains.Sources;

/// <summary>
/// The directory over the in-memory catalog and its search index. A stateless worker: each silo
/// answers locally and can run several activations over the one shared, immutable index, since
/// there is nothing to coordinate. Every silo builds the same index from the same snapshot and
/// configuration, so a cursor issued by one silo pages correctly on another.
/// </summary>
[StatelessWorker]
public sealed class SourceDirectoryGrain(SourceCatalog catalog) : Grain, ISourceDirectoryGrain
{
    public Task<Page<SourceView>> Search(SourceQuery query)
    {
        var limit = Cursors.Clamp(query.Limit);
        var afterId = string.IsNullOrEmpty(query.Cursor) ? null : Cursors.Decode(query.Cursor);
        var (items, more) = catalog.Index.Search(query, limit, afterId);
        // The cursor names the page's last item; the next page starts right after it in the same order.
        var next = more && items.Count > 0 ? Cursors.Encode(items[^1].Id) : null;
        return Task.FromResult(new Page<SourceView>(items, next));
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
}

using PatientConnect.Common;

namespace PatientConnect.Sources;

/// <summary>
/// The directory, served from memory on every silo (stateless worker, key 0): no per-request hop
/// to a single activation.
/// </summary>
[Alias("pc.ISourceDirectoryGrain")]
public interface ISourceDirectoryGrain : IGrainWithIntegerKey
{
    [ReadOnly, Alias("Search")] Task<Page<SourceView>> Search(SourceQuery query);

    [ReadOnly, Alias("Get")] Task<SourceView?> Get(string sourceId);

    [ReadOnly, Alias("GetMany")] Task<IReadOnlyList<SourceView>> GetMany(IReadOnlyList<string> sourceIds);
}

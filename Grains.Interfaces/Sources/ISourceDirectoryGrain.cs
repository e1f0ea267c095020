using PatientConnect.Common;

namespace PatientConnect.Sources;

/// <summary>
/// The directory, served from memory on every silo (stateless worker, key 0): no per-request hop
/// to a single activation.
/// </summary>
[Alias("pc.ISourceDirectoryGrain")]
public interface ISourceDirectoryGrain : IGrainWithIntegerKey
{
    [ReadOnly, Alias("Search"), Retryable, ResponseTimeout("00:00:05")] Task<Page<SourceView>> Search(SourceQuery query);

    [ReadOnly, Alias("Get"), Retryable, ResponseTimeout("00:00:03")] Task<SourceView?> Get(string sourceId);

    [ReadOnly, Alias("GetMany"), Retryable, ResponseTimeout("00:00:03")] Task<IReadOnlyList<SourceView>> GetMany(IReadOnlyList<string> sourceIds);
}

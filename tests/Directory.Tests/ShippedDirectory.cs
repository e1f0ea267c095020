using Microsoft.Extensions.Configuration;
using PatientConnect.Grains.Sources;

namespace PatientConnect.Directory.Tests;

/// <summary>The shipped snapshot loaded the way a silo loads it, once for the assembly.</summary>
public sealed class ShippedDirectory
{
    public ShippedDirectory()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Catalog = SourceCatalog.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [SourceCatalog.SnapshotFileKey] = Samples.ShippedSnapshot,
        }).Build());
        LoadTime = clock.Elapsed;
    }

    public SourceCatalog Catalog { get; }

    public TimeSpan LoadTime { get; }
}

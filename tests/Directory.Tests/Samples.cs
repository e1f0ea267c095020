using PatientConnect.Grains.Sources.Import;

namespace PatientConnect.Directory.Tests;

internal static class Samples
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Samples", name);

    public static ImportResult Import(string name) => DirectoryImporter.ImportFile(Path(name));

    public static string ShippedSnapshot => System.IO.Path.Combine(AppContext.BaseDirectory, "Shipped", "sources.json.gz");
}

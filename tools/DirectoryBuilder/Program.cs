using System.Diagnostics;
using PatientConnect.Grains.Sources.Import;

// Rebuilds the shipped directory snapshot from public endpoint lists:
//   dotnet run --project tools/DirectoryBuilder -- [--out data/directory/sources.json.gz] [--skip-broken] <file or folder>...
// Folders are read for *.json and *.json.gz, in name order. Formats are detected per file (Lantern list,
// FHIR Bundle of Endpoint with contained Organization, SMART User-access Brands bundle). A broken file
// stops the build (nothing half-imported) unless --skip-broken leaves it out with its error printed.
var output = "data/directory/sources.json.gz";
var skipBroken = false;
var inputs = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--out" when i + 1 < args.Length: output = args[++i]; break;
        case "--skip-broken": skipBroken = true; break;
        case "-h" or "--help":
            Console.WriteLine("usage: DirectoryBuilder [--out FILE.json.gz] [--skip-broken] <file or folder>...");
            return 0;
        default: inputs.Add(args[i]); break;
    }
}
if (inputs.Count == 0)
{
    Console.Error.WriteLine("usage: DirectoryBuilder [--out FILE.json.gz] [--skip-broken] <file or folder>...");
    return 2;
}

var files = new List<string>();
foreach (var input in inputs)
{
    if (Directory.Exists(input))
    {
        files.AddRange(Directory.EnumerateFiles(input)
            .Where(f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".json.gz", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal));
    }
    else if (File.Exists(input))
    {
        files.Add(input);
    }
    else
    {
        Console.Error.WriteLine($"{input}: no such file or folder");
        return 2;
    }
}

var clock = Stopwatch.StartNew();
var builder = new SnapshotBuilder();
var broken = 0;
foreach (var file in files)
{
    try
    {
        var result = DirectoryImporter.ImportFile(file);
        builder.Add(result);
        var skipped = result.SkippedCount == 0 ? "" : " (left out: " + string.Join(", ", result.Skipped.Select(s => $"{s.Key} {s.Value}")) + ")";
        Console.WriteLine($"{result.File}: {result.Format}, {result.Sources.Count} endpoints{skipped}");
    }
    catch (DirectoryImportException e)
    {
        broken++;
        Console.Error.WriteLine($"error: {e.Message}");
        if (!skipBroken)
        {
            Console.Error.WriteLine("nothing written; fix the file or pass --skip-broken");
            return 1;
        }
    }
}

var snapshot = builder.Build();
snapshot.Save(output);
var vendors = snapshot.Sources.GroupBy(s => s.Vendor).OrderByDescending(g => g.Count()).Take(12).Select(g => $"{g.Key} {g.Count()}");
Console.WriteLine($"{output}: {snapshot.Sources.Count} sources, {snapshot.Sources.Sum(s => s.Aliases.Count)} aliases, " +
                  $"{snapshot.Sources.Select(s => s.Vendor).Distinct().Count()} vendors ({string.Join(", ", vendors)}, …), " +
                  $"{new FileInfo(output).Length / 1024} KiB, {clock.ElapsedMilliseconds} ms");
if (broken > 0) Console.Error.WriteLine($"{broken} broken file(s) left out");
return 0;

using System.IO.Compression;
using System.Text.Json;

namespace PatientConnect.Grains.Sources.Import;

/// <summary>Reads one endpoint list, whichever of the known formats it is in.</summary>
public static class DirectoryImporter
{
    private static readonly JsonDocumentOptions Options = new() { AllowTrailingCommas = false, MaxDepth = 64 };

    /// <summary>Imports a file (<c>.json</c> or <c>.json.gz</c>); throws <see cref="DirectoryImportException"/> for a broken one.</summary>
    public static ImportResult ImportFile(string path)
    {
        var name = Path.GetFileName(path);
        try
        {
            using var file = File.OpenRead(path);
            using var stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
            return Import(name, stream);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new DirectoryImportException(name, $"cannot be read: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new DirectoryImportException(name, $"is not valid gzip: {e.Message}", e);
        }
    }

    /// <summary>Detects the format from the content: an object with <c>Endpoints</c> (Lantern) or a FHIR Bundle.</summary>
    public static ImportResult Import(string fileName, Stream json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, Options);
        }
        catch (JsonException e)
        {
            throw new DirectoryImportException(fileName, $"is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("Endpoints", out _))
            {
                return LanternImporter.Import(fileName, root);
            }
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("resourceType", out _))
            {
                return FhirBundleImporter.Import(fileName, root);
            }
            throw new DirectoryImportException(fileName,
                "is neither a Lantern list ({\"Endpoints\": [...]}) nor a FHIR Bundle ({\"resourceType\": \"Bundle\"}).");
        }
    }
}

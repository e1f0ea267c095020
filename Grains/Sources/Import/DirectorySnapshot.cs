using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PatientConnect.Grains.Sources.Import;

/// <summary>One source of the shipped directory: merged from every list that names its FHIR base.</summary>
public sealed record SnapshotSource
{
    [JsonPropertyName("fhir_base_url")] public required string FhirBaseUrl { get; init; }
    [JsonPropertyName("name")] public required string Name { get; init; }
    /// <summary>Every other name the lists give this endpoint (a shared endpoint has one per practice on it).</summary>
    [JsonPropertyName("aliases")] public IReadOnlyList<string> Aliases { get; init; } = [];
    [JsonPropertyName("vendor")] public required string Vendor { get; init; }
    [JsonPropertyName("city")] public string? City { get; init; }
    [JsonPropertyName("state")] public string? State { get; init; }
    [JsonPropertyName("zip")] public string? Zip { get; init; }
    [JsonPropertyName("logo_url")] public string? LogoUrl { get; init; }
    [JsonPropertyName("portal_url")] public string? PortalUrl { get; init; }
    /// <summary>The patient portal's own name ("MyChart"), from a Brands bundle: patients often know it better.</summary>
    [JsonPropertyName("portal_name")] public string? PortalName { get; init; }
    /// <summary>Other base URLs of the same organisation's same server, merged into this one (their ids still resolve here).</summary>
    [JsonPropertyName("merged_urls")] public IReadOnlyList<string>? MergedUrls { get; init; }
}

public sealed record SnapshotInput(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("endpoints")] int Endpoints,
    [property: JsonPropertyName("skipped")] IReadOnlyDictionary<string, int> Skipped);

/// <summary>The shipped directory file (gzip JSON), written by tools/DirectoryBuilder and read by every silo at start.</summary>
public sealed record DirectorySnapshot
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("version")] public int Version { get; init; } = CurrentVersion;
    [JsonPropertyName("inputs")] public IReadOnlyList<SnapshotInput> Inputs { get; init; } = [];
    [JsonPropertyName("sources")] public required IReadOnlyList<SnapshotSource> Sources { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static DirectorySnapshot Load(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            using var stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
            var snapshot = JsonSerializer.Deserialize<DirectorySnapshot>(stream, JsonOptions)
                ?? throw new InvalidDataException("the file is empty.");
            if (snapshot.Version != CurrentVersion) throw new InvalidDataException($"version {snapshot.Version} is not {CurrentVersion}.");
            return snapshot;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException)
        {
            throw new InvalidOperationException($"The directory snapshot {path} cannot be read: {e.Message}", e);
        }
    }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.SmallestSize);
        JsonSerializer.Serialize(gzip, this, JsonOptions);
    }
}

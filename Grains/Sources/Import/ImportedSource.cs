namespace PatientConnect.Grains.Sources.Import;

/// <summary>
/// One patient-access FHIR endpoint as an importer read it, before duplicates are merged. Every
/// field but the URL, the vendor and the names is optional: each public list carries different facts.
/// </summary>
public sealed record ImportedSource(
    string FhirBaseUrl,
    string Vendor,
    IReadOnlyList<string> Names,
    string? City = null,
    string? State = null,
    string? Zip = null,
    string? LogoUrl = null,
    string? PortalUrl = null,
    string? PortalName = null);

/// <summary>A file that cannot be imported. Nothing from it is used: a half-read list is worse than none.</summary>
public sealed class DirectoryImportException(string file, string message, Exception? inner = null)
    : Exception($"{file}: {message}", inner)
{
    public string File { get; } = file;
}

/// <summary>What one file gave: the endpoints kept, and how many were left out and why.</summary>
public sealed record ImportResult(string File, string Format, IReadOnlyList<ImportedSource> Sources, IReadOnlyDictionary<string, int> Skipped)
{
    public int SkippedCount => Skipped.Values.Sum();
}

namespace SandboxEhr.Data;

/// <summary>
/// One resource as served: its JSON serialized once at start, and the few facts searches filter on.
/// </summary>
public sealed class StoredResource
{
    public required string Type { get; init; }
    public required string Id { get; init; }
    /// <summary>The patient whose compartment holds it; null for shared resources (Practitioner, Medication…).</summary>
    public string? PatientId { get; set; }
    public required DateTimeOffset LastUpdated { get; init; }
    /// <summary>Category codes, as "code" and "system|code".</summary>
    public required IReadOnlySet<string> Categories { get; init; }
    /// <summary>Codes of the resource's main code element, as "code" and "system|code".</summary>
    public required IReadOnlySet<string> Codes { get; init; }
    /// <summary>The Medication id a MedicationRequest references, for _include.</summary>
    public string? MedicationId { get; init; }
    /// <summary>Binary ids of attachments (DocumentReference), which puts those Binaries in this patient's compartment.</summary>
    public IReadOnlyList<string> AttachmentBinaryIds { get; init; } = [];
    /// <summary>The resource as application/fhir+json (UTF-8).</summary>
    public required byte[] Json { get; init; }
    /// <summary>Binary only: the raw bytes and their media type.</summary>
    public byte[]? Content { get; init; }
    public string? ContentType { get; init; }
}

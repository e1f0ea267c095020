using Hl7.Fhir.Model;

namespace SandboxEhr.Data;

/// <summary>Pulls from a resource the facts the FHIR API filters on, and serializes it once.</summary>
public static class ResourceIndexer
{
    private static readonly IReadOnlySet<string> None = new HashSet<string>();

    public static StoredResource Store(Resource resource)
    {
        var binary = resource as Binary;
        return new StoredResource
        {
            Type = resource.TypeName,
            Id = resource.Id ?? throw new InvalidOperationException($"{resource.TypeName} without id"),
            PatientId = resource is Patient ? resource.Id : PatientOf(resource),
            LastUpdated = resource.Meta?.LastUpdated ?? DateTimeOffset.UnixEpoch,
            Categories = TokenSet(CategoriesOf(resource)),
            Codes = TokenSet(CodesOf(resource)),
            MedicationId = resource is MedicationRequest { Medication: ResourceReference medication }
                ? IdOf(medication, "Medication")
                : null,
            AttachmentBinaryIds = resource is DocumentReference doc
                ? doc.Content.Select(c => BinaryIdOf(c.Attachment?.Url)).OfType<string>().ToArray()
                : [],
            Json = FhirJson.Serialize(resource),
            Content = binary?.Data,
            ContentType = binary?.ContentType,
        };
    }

    /// <summary>The patient id of the compartment the resource lives in, or null for shared resources.</summary>
    public static string? PatientOf(Resource resource)
    {
        var reference = resource switch
        {
            AllergyIntolerance r => r.Patient,
            Condition r => r.Subject,
            Observation r => r.Subject,
            DiagnosticReport r => r.Subject,
            DocumentReference r => r.Subject,
            MedicationRequest r => r.Subject,
            Immunization r => r.Patient,
            Procedure r => r.Subject,
            Encounter r => r.Subject,
            CarePlan r => r.Subject,
            CareTeam r => r.Subject,
            Goal r => r.Subject,
            Device r => r.Patient,
            Coverage r => r.Beneficiary,
            ExplanationOfBenefit r => r.Patient,
            Claim r => r.Patient,
            ImagingStudy r => r.Subject,
            MedicationDispense r => r.Subject,
            ServiceRequest r => r.Subject,
            _ => null,
        };
        return reference is null ? null : IdOf(reference, "Patient");
    }

    /// <summary>The id of a reference such as "Patient/123" or "http://host/fhir/Patient/123".</summary>
    public static string? IdOf(ResourceReference reference, string type)
    {
        var value = reference.Reference;
        if (string.IsNullOrEmpty(value))
            return null;
        var history = value.IndexOf("/_history/", StringComparison.Ordinal);
        if (history >= 0)
            value = value[..history];
        var parts = value.Split('/');
        return parts.Length >= 2 && parts[^2] == type ? parts[^1] : null;
    }

    private static string? BinaryIdOf(string? url)
    {
        if (string.IsNullOrEmpty(url))
            return null;
        var parts = url.Split('/');
        return parts.Length >= 2 && parts[^2] == "Binary" ? parts[^1] : null;
    }

    private static IEnumerable<CodeableConcept?> CategoriesOf(Resource resource) => resource switch
    {
        Observation r => r.Category,
        Condition r => r.Category,
        DiagnosticReport r => r.Category,
        DocumentReference r => r.Category,
        CarePlan r => r.Category,
        CareTeam r => r.Category,
        MedicationRequest r => r.Category,
        Goal r => r.Category,
        Procedure { Category: not null } r => One(r.Category),
        _ => [],
    };

    private static IEnumerable<CodeableConcept?> CodesOf(Resource resource) => resource switch
    {
        Observation r => One(r.Code),
        Condition r => One(r.Code),
        DiagnosticReport r => One(r.Code),
        Procedure r => One(r.Code),
        AllergyIntolerance r => One(r.Code),
        Immunization r => One(r.VaccineCode),
        MedicationRequest { Medication: CodeableConcept c } => One(c),
        Medication r => One(r.Code),
        DocumentReference r => One(r.Type),
        Encounter r => r.Type,
        Device r => One(r.Type),
        _ => [],
    };

    private static CodeableConcept?[] One(CodeableConcept? concept) => [concept];

    private static IReadOnlySet<string> TokenSet(IEnumerable<CodeableConcept?> concepts)
    {
        HashSet<string>? set = null;
        foreach (var concept in concepts)
        {
            if (concept is null)
                continue;
            foreach (var coding in concept.Coding)
            {
                if (string.IsNullOrEmpty(coding.Code))
                    continue;
                set ??= new HashSet<string>(StringComparer.Ordinal);
                set.Add(coding.Code);
                if (!string.IsNullOrEmpty(coding.System))
                    set.Add(coding.System + "|" + coding.Code);
            }
        }
        return set ?? None;
    }
}

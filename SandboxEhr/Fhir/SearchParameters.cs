namespace SandboxEhr.Fhir;

/// <summary>A search parameter the sandbox implements for a type, as the CapabilityStatement lists it.</summary>
public sealed record SearchParameter(string Name, string Kind, string Documentation);

/// <summary>Which search parameters each type accepts. Everything else is "unknown" and handled per profile.</summary>
public static class SearchParameters
{
    public static readonly SearchParameter Id = new("_id", "token", "Logical id (comma-separated for several)");
    public static readonly SearchParameter LastUpdated = new("_lastUpdated", "date", "meta.lastUpdated with prefix ge, gt, le, lt or eq (repeat to bound both ends)");
    public static readonly SearchParameter Patient = new("patient", "reference", "The patient of the compartment; must be the token's patient");
    public static readonly SearchParameter Subject = new("subject", "reference", "Patient/<id>; must be the token's patient");
    public static readonly SearchParameter Beneficiary = new("beneficiary", "reference", "Patient/<id>; must be the token's patient");
    public static readonly SearchParameter Category = new("category", "token", "Category code or system|code, comma-separated for any of several");
    public static readonly SearchParameter Code = new("code", "token", "Code or system|code, comma-separated for any of several");
    public static readonly SearchParameter DocumentType = new("type", "token", "Document type (LOINC)");

    /// <summary>Parameters that steer the result rather than filter it; accepted on every search.</summary>
    public static readonly IReadOnlySet<string> Control = new HashSet<string>(StringComparer.Ordinal)
    {
        "_count", "_format", "_page_token",
    };

    public const string MedicationInclude = "MedicationRequest:medication";

    private static readonly Dictionary<string, SearchParameter[]> ByType = new(StringComparer.Ordinal)
    {
        ["Patient"] = [Id, LastUpdated],
        ["AllergyIntolerance"] = [Id, LastUpdated, Patient, Code],
        ["Condition"] = [Id, LastUpdated, Patient, Subject, Category, Code],
        ["Observation"] = [Id, LastUpdated, Patient, Subject, Category, Code],
        ["DiagnosticReport"] = [Id, LastUpdated, Patient, Subject, Category, Code],
        ["DocumentReference"] = [Id, LastUpdated, Patient, Subject, Category, DocumentType],
        ["MedicationRequest"] = [Id, LastUpdated, Patient, Subject, Category],
        ["Immunization"] = [Id, LastUpdated, Patient],
        ["Procedure"] = [Id, LastUpdated, Patient, Subject, Code],
        ["Encounter"] = [Id, LastUpdated, Patient, Subject],
        ["CarePlan"] = [Id, LastUpdated, Patient, Subject, Category],
        ["CareTeam"] = [Id, LastUpdated, Patient, Subject, Category],
        ["Goal"] = [Id, LastUpdated, Patient, Subject],
        ["Device"] = [Id, LastUpdated, Patient],
        ["Coverage"] = [Id, LastUpdated, Patient, Beneficiary],
        ["ExplanationOfBenefit"] = [Id, LastUpdated, Patient],
        ["Claim"] = [Id, LastUpdated, Patient],
        ["ImagingStudy"] = [Id, LastUpdated, Patient, Subject],
        ["MedicationDispense"] = [Id, LastUpdated, Patient, Subject],
        ["ServiceRequest"] = [Id, LastUpdated, Patient, Subject, Category, Code],
        ["Medication"] = [Id],
        ["Practitioner"] = [Id],
        ["Organization"] = [Id],
    };

    /// <summary>The type's parameters; empty when the type cannot be searched (Binary).</summary>
    public static IReadOnlyList<SearchParameter> For(string type) => ByType.GetValueOrDefault(type) ?? [];

    public static bool Accepts(string type, string name) => For(type).Any(p => p.Name == name);

    /// <summary>_include values a type honours.</summary>
    public static IReadOnlyList<string> Includes(string type) => type == "MedicationRequest" ? [MedicationInclude] : [];
}

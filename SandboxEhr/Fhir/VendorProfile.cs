namespace SandboxEhr.Fhir;

/// <summary>
/// What a vendor's FHIR server offers and how strict it is. The sandbox imitates three behaviours:
/// Epic-like (strict search parameters, Observation needs a category, pages of 50 at most),
/// Cerner-like (lenient: unknown parameters are ignored and reported) and a payer (coverage and claims).
/// </summary>
public sealed record VendorProfile(
    string Name,
    IReadOnlySet<string> CompartmentTypes,
    IReadOnlySet<string> ReadOnlyTypes,
    bool StrictSearchParameters,
    bool ObservationRequiresCategory,
    int DefaultPageSize,
    int MaxPageSize)
{
    /// <summary>Types that are read or searched in the patient compartment (Patient included).</summary>
    public bool ServesCompartment(string type) => CompartmentTypes.Contains(type);

    /// <summary>Every type this server answers for, compartment or not.</summary>
    public bool Serves(string type) => CompartmentTypes.Contains(type) || ReadOnlyTypes.Contains(type);

    public IEnumerable<string> AllTypes => CompartmentTypes.Concat(ReadOnlyTypes).Order(StringComparer.Ordinal);

    private static readonly string[] ClinicalTypes =
    [
        "Patient", "AllergyIntolerance", "Condition", "Observation", "DiagnosticReport", "DocumentReference",
        "MedicationRequest", "Immunization", "Procedure", "Encounter", "CarePlan", "CareTeam", "Goal", "Device",
    ];

    // Referenced from the compartment; read by id (Binary holds DocumentReference attachments).
    private static readonly string[] ReferencedTypes = ["Binary", "Medication", "Practitioner", "Organization"];

    public static readonly VendorProfile Epic = new(
        "epic", ClinicalTypes.ToHashSet(), ReferencedTypes.ToHashSet(),
        StrictSearchParameters: true, ObservationRequiresCategory: true, DefaultPageSize: 50, MaxPageSize: 50);

    public static readonly VendorProfile Cerner = new(
        "cerner", ClinicalTypes.ToHashSet(), ReferencedTypes.ToHashSet(),
        StrictSearchParameters: false, ObservationRequiresCategory: false, DefaultPageSize: 50, MaxPageSize: 200);

    // A health plan holds coverage and claims, plus the clinical data that claims and exchanges bring it.
    public static readonly VendorProfile Payer = new(
        "payer",
        new HashSet<string>
        {
            "Patient", "Coverage", "ExplanationOfBenefit", "AllergyIntolerance", "Condition", "Observation",
            "MedicationRequest", "Immunization", "Procedure", "Encounter",
        },
        new HashSet<string> { "Medication", "Practitioner", "Organization" },
        StrictSearchParameters: false, ObservationRequiresCategory: false, DefaultPageSize: 20, MaxPageSize: 100);

    // Before Community, which reads it (static fields initialise in order).
    /// <summary>The patient-compartment types only the community profile serves.</summary>
    public static readonly IReadOnlyList<string> CommunityExtraTypes = ["Claim", "ImagingStudy", "MedicationDispense", "ServiceRequest"];

    /// <summary>
    /// A community hospital whose server offers more of the patient compartment than US Core: orders,
    /// imaging studies, pharmacy dispenses and its own claims (what a sync limited to US Core misses).
    /// </summary>
    public static readonly VendorProfile Community = new(
        "community",
        ClinicalTypes.Concat(CommunityExtraTypes).ToHashSet(),
        ReferencedTypes.ToHashSet(),
        StrictSearchParameters: false, ObservationRequiresCategory: false, DefaultPageSize: 50, MaxPageSize: 200);

    public static VendorProfile For(string name) => name switch
    {
        "epic" => Epic,
        "cerner" => Cerner,
        "payer" => Payer,
        "community" => Community,
        _ => throw new ArgumentException($"Unknown vendor profile '{name}'.", nameof(name)),
    };
}

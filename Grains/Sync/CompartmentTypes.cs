using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PatientConnect.Connections;

namespace PatientConnect.Grains.Sync;

/// <summary>
/// <c>PatientConnect:Sync:CompartmentTypes</c>: the operator's say over which Patient-compartment types
/// beyond US Core are asked for and fetched. <c>Deny</c> applies to every vendor; under
/// <c>Vendors:{vendor}</c>, <c>Allow</c> (when set) limits that vendor's extra types to those named and
/// <c>Deny</c> removes some. A denied type is neither asked for (no scope) nor fetched.
/// </summary>
public sealed class CompartmentTypeOptions
{
    public const string SectionName = "PatientConnect:Sync:CompartmentTypes";

    public List<string> Deny { get; set; } = [];

    public Dictionary<string, VendorCompartmentTypes> Vendors { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

public sealed class VendorCompartmentTypes
{
    public List<string>? Allow { get; set; }

    public List<string> Deny { get; set; } = [];
}

/// <summary>
/// The whole chart: besides the US Core searches (<see cref="SyncGrain.SearchTypes"/>), every type of the
/// FHIR R4 Patient compartment that the operator allows for the source's vendor. The session asks for
/// their scopes where the source lists them (<c>scopes_supported</c>), and the sync searches those the
/// source's CapabilityStatement declares searchable by patient and the granted scopes allow.
/// </summary>
public sealed class CompartmentTypeSelector(IOptionsMonitor<CompartmentTypeOptions> options)
{
    /// <summary>The resource types of the FHIR R4 Patient CompartmentDefinition (hl7.org/fhir/R4/compartmentdefinition-patient.html).</summary>
    public static readonly IReadOnlyList<string> PatientCompartment =
    [
        "Account", "AdverseEvent", "AllergyIntolerance", "Appointment", "AppointmentResponse", "AuditEvent", "Basic", "BodyStructure",
        "CarePlan", "CareTeam", "ChargeItem", "Claim", "ClaimResponse", "ClinicalImpression", "Communication", "CommunicationRequest",
        "Composition", "Condition", "Consent", "Coverage", "CoverageEligibilityRequest", "CoverageEligibilityResponse", "DetectedIssue",
        "DeviceRequest", "DeviceUseStatement", "DiagnosticReport", "DocumentManifest", "DocumentReference", "Encounter",
        "EnrollmentRequest", "EpisodeOfCare", "ExplanationOfBenefit", "FamilyMemberHistory", "Flag", "Goal", "Group", "ImagingStudy",
        "Immunization", "ImmunizationEvaluation", "ImmunizationRecommendation", "Invoice", "List", "MeasureReport", "Media",
        "MedicationAdministration", "MedicationDispense", "MedicationRequest", "MedicationStatement", "MolecularSequence",
        "NutritionOrder", "Observation", "Person", "Procedure", "Provenance", "QuestionnaireResponse", "RelatedPerson",
        "RequestGroup", "ResearchSubject", "RiskAssessment", "Schedule", "ServiceRequest", "Specimen", "SupplyDelivery",
        "SupplyRequest", "VisionPrescription",
    ];

    /// <summary>How a compartment search names the patient, in order of preference.</summary>
    public static readonly IReadOnlyList<string> PatientParameters = ["patient", "subject", "beneficiary"];

    /// <summary>The compartment types beyond US Core the operator allows for <paramref name="vendor"/>.</summary>
    public IReadOnlyList<string> ExtraTypes(string? vendor)
    {
        var o = options.CurrentValue;
        var vendorRules = vendor is not null && o.Vendors.TryGetValue(vendor, out var rules) ? rules : null;
        return PatientCompartment
            .Except(SyncGrain.SearchTypes, StringComparer.Ordinal)
            .Where(type => !o.Deny.Contains(type, StringComparer.Ordinal))
            .Where(type => vendorRules?.Allow is not { } allow || allow.Contains(type, StringComparer.Ordinal))
            .Where(type => vendorRules is null || !vendorRules.Deny.Contains(type, StringComparer.Ordinal))
            .ToList();
    }

    /// <summary>
    /// The extra types a sync searches: allowed for the vendor, declared by the source's CapabilityStatement
    /// as searchable with a patient parameter (an unreadable statement declares nothing: only US Core is
    /// tried then), and granted.
    /// </summary>
    public IReadOnlyList<string> SearchTypes(string? vendor, SourceCapabilities capabilities, GrantedScopes scopes) =>
        capabilities.Known
            ? ExtraTypes(vendor).Where(type => capabilities.CanSearch(type) && scopes.CanSearch(type)
                                               && PatientParameters.Any(p => capabilities.HasSearchParam(type, p))).ToList()
            : [];
}

public static class CompartmentTypeServiceCollectionExtensions
{
    public static IServiceCollection AddPatientConnectCompartmentTypes(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CompartmentTypeOptions>().Bind(configuration.GetSection(CompartmentTypeOptions.SectionName));
        services.TryAddSingleton<CompartmentTypeSelector>();
        return services;
    }
}

/// <summary>The hook of the plan (SyncGrain.Plan.cs): the extra compartment types of this source.</summary>
public sealed partial class SyncGrain
{
    private IReadOnlyList<string> ExtraSearchTypes(AccessLease lease, SourceCapabilities capabilities, GrantedScopes scopes) =>
        ServiceProvider.GetService<CompartmentTypeSelector>()?.SearchTypes(catalog.Find(lease.SourceId)?.View.Vendor, capabilities, scopes) ?? [];
}

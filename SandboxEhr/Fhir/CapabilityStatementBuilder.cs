using Hl7.Fhir.Model;
using SandboxEhr.Data;
using SandboxEhr.Hospitals;

namespace SandboxEhr.Fhir;

/// <summary>
/// <c>GET {base}/metadata</c>: an R4 CapabilityStatement naming the SMART endpoints (the oauth-uris
/// extension of SMART App Launch) and, per profile, the types, interactions and search parameters served.
/// </summary>
public static class CapabilityStatementBuilder
{
    public const string OAuthUrisExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

    private static readonly Dictionary<string, SearchParamType> Kinds = new()
    {
        ["token"] = SearchParamType.Token,
        ["reference"] = SearchParamType.Reference,
        ["date"] = SearchParamType.Date,
    };

    public static byte[] Build(Hospital hospital, HttpRequest request)
    {
        var profile = VendorProfile.For(hospital.Info.VendorProfile);
        var authBase = hospital.AuthBase(request);
        var fhirBase = hospital.FhirBase(request);

        var security = new CapabilityStatement.SecurityComponent
        {
            Cors = true,
            Service =
            [
                new CodeableConcept("http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR", "SMART-on-FHIR"),
            ],
            Description = "SMART App Launch 2.x, standalone patient launch; see .well-known/smart-configuration",
        };
        security.Extension.Add(new Extension
        {
            Url = OAuthUrisExtension,
            Extension =
            [
                new Extension("authorize", new FhirUri($"{authBase}/authorize")),
                new Extension("token", new FhirUri($"{authBase}/token")),
                new Extension("revoke", new FhirUri($"{authBase}/revoke")),
            ],
        });

        var rest = new CapabilityStatement.RestComponent
        {
            Mode = CapabilityStatement.RestfulCapabilityMode.Server,
            Documentation = profile.StrictSearchParameters
                ? "Unknown search parameters are refused with 400."
                : "Unknown search parameters are ignored and reported in an OperationOutcome entry (Prefer: handling=strict refuses them).",
            Security = security,
        };
        foreach (var type in profile.AllTypes)
        {
            var parameters = SearchParameters.For(type);
            var component = new CapabilityStatement.ResourceComponent
            {
                Type = type,
                Interaction = [new CapabilityStatement.ResourceInteractionComponent { Code = CapabilityStatement.TypeRestfulInteraction.Read }],
                ReadHistory = false,
                UpdateCreate = false,
                SearchInclude = SearchParameters.Includes(type),
            };
            if (parameters.Count > 0)
                component.Interaction.Add(new CapabilityStatement.ResourceInteractionComponent { Code = CapabilityStatement.TypeRestfulInteraction.SearchType });
            foreach (var parameter in parameters)
            {
                var documentation = type == "Observation" && parameter.Name == "category" && profile.ObservationRequiresCategory
                    ? parameter.Documentation + " (required)"
                    : parameter.Documentation;
                component.SearchParam.Add(new CapabilityStatement.SearchParamComponent
                {
                    Name = parameter.Name,
                    Type = Kinds[parameter.Kind],
                    Documentation = documentation,
                });
            }
            rest.Resource.Add(component);
        }

        var statement = new CapabilityStatement
        {
            Id = $"sandbox-{hospital.Info.Id}",
            Meta = new Meta { LastUpdated = DataGenerator.Epoch },
            Url = $"{fhirBase}/metadata",
            Name = "SandboxEhrCapabilityStatement",
            Title = $"{hospital.Info.Name} FHIR R4 API ({profile.Name} profile)",
            Status = PublicationStatus.Active,
            Date = DataGenerator.Epoch.ToString("yyyy-MM-dd"),
            Publisher = "PatientConnect Sandbox EHR",
            Kind = CapabilityStatementKind.Instance,
            Software = new CapabilityStatement.SoftwareComponent { Name = "PatientConnect Sandbox EHR", Version = "1.0" },
            Implementation = new CapabilityStatement.ImplementationComponent { Description = hospital.Info.Name, Url = fhirBase },
            FhirVersion = FHIRVersion.N4_0_1,
            Format = ["json", "application/fhir+json"],
            Rest = [rest],
        };
        return FhirJson.Serialize(statement);
    }
}

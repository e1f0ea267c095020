using Hl7.Fhir.Model;

namespace PatientConnect.Api.Fhir;

/// <summary>
/// <c>GET …/fhir/metadata</c>: what this patient's FHIR endpoint serves. The resource list is the
/// types the patient has records of (the endpoint serves stored records, nothing else); each is
/// readable and searchable by the same few parameters.
/// </summary>
public static class CapabilityStatements
{
    public const string BulkPatientExport = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export";

    public static CapabilityStatement Build(string fhirBase, IReadOnlyList<string> types, DateTimeOffset now)
    {
        var rest = new CapabilityStatement.RestComponent
        {
            Mode = CapabilityStatement.RestfulCapabilityMode.Server,
            Documentation = "Read-only access to the records PatientConnect has stored for one patient, as the sources sent them. " +
                            "Authenticate with the app's API key (Authorization: Bearer). Unknown search parameters are ignored and " +
                            "reported in an OperationOutcome entry; Prefer: handling=strict refuses them.",
            Security = new CapabilityStatement.SecurityComponent { Description = "Authorization: Bearer <PatientConnect API key>" },
        };
        foreach (var type in types)
        {
            rest.Resource.Add(new CapabilityStatement.ResourceComponent
            {
                Type = type,
                Interaction =
                [
                    new CapabilityStatement.ResourceInteractionComponent { Code = CapabilityStatement.TypeRestfulInteraction.Read },
                    new CapabilityStatement.ResourceInteractionComponent { Code = CapabilityStatement.TypeRestfulInteraction.SearchType },
                ],
                ReadHistory = false,
                UpdateCreate = false,
                SearchParam =
                [
                    new CapabilityStatement.SearchParamComponent { Name = "_id", Type = SearchParamType.Token, Definition = "http://hl7.org/fhir/SearchParameter/Resource-id" },
                    new CapabilityStatement.SearchParamComponent { Name = "_lastUpdated", Type = SearchParamType.Date, Definition = "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated", Documentation = "Prefixes eq, ge, gt, le, lt, sa, eb." },
                    new CapabilityStatement.SearchParamComponent { Name = FhirSearchParameters.ConnectionParameter, Type = SearchParamType.Token, Documentation = "Only records of this PatientConnect connection (conn_…)." },
                ],
            });
        }
        rest.Operation.Add(new CapabilityStatement.OperationComponent
        {
            Name = "export",
            Definition = BulkPatientExport,
            Documentation = "GET /v1/patients/{patient_id}/$export streams every stored record as application/fhir+ndjson, one type after another; _type filters.",
        });

        return new CapabilityStatement
        {
            Status = PublicationStatus.Active,
            Date = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            Publisher = "PatientConnect",
            Kind = CapabilityStatementKind.Instance,
            Software = new CapabilityStatement.SoftwareComponent { Name = "PatientConnect" },
            Implementation = new CapabilityStatement.ImplementationComponent { Description = "PatientConnect stored records of one patient", Url = fhirBase },
            FhirVersion = FHIRVersion.N4_0_1,
            Format = ["json", "application/fhir+json"],
            Rest = [rest],
        };
    }
}

using System.Globalization;
using PatientConnect.Connections;
using PatientConnect.Sync;

namespace PatientConnect.Grains.Sync;

/// <summary>What to fetch: from the source's CapabilityStatement and the granted scopes.</summary>
public sealed partial class SyncGrain
{
    /// <summary>The patient-compartment searches of a record pull: US Core, plus claims data for payers.</summary>
    public static readonly IReadOnlyList<string> SearchTypes =
    [
        "AllergyIntolerance", "Condition", "Observation", "DiagnosticReport", "DocumentReference", "MedicationRequest",
        "Immunization", "Procedure", "Encounter", "CarePlan", "CareTeam", "Goal", "Device", "Coverage", "ExplanationOfBenefit",
    ];

    private const string MedicationInclude = "MedicationRequest:medication";
    private const int IdsPerSearch = 50;

    private GrantedScopes? _scopes;

    private async Task PlanAsync(AccessLease lease, CancellationToken token)
    {
        var capabilities = await CapabilitiesAsync(token);
        var scopes = _scopes = new GrantedScopes(lease.Scopes);
        var patient = Uri.EscapeDataString(lease.FhirPatientId);
        var steps = new List<SyncStep>();

        if (capabilities.CanRead("Patient") && scopes.CanRead("Patient"))
        {
            steps.Add(new SyncStep { Kind = SyncStepKind.Read, ResourceType = "Patient", Url = $"Patient/{patient}" });
        }

        // US Core, then the rest of the patient compartment the source declares and the operator allows (CompartmentTypes.cs).
        foreach (var type in SearchTypes.Concat(ExtraSearchTypes(lease, capabilities, scopes)))
        {
            // A type the source does not serve, or the patient did not grant, is simply not part of this source's chart.
            if (!capabilities.CanSearch(type) || !scopes.CanSearch(type)) continue;
            var parameter = new[] { "patient", "subject", "beneficiary" }.FirstOrDefault(p => capabilities.HasSearchParam(type, p));
            if (parameter is null)
            {
                Note($"{type}: the source offers no patient search parameter; not fetched");
                continue;
            }
            var value = parameter == "patient" ? patient : $"Patient/{patient}";
            var url = $"{type}?{parameter}={value}&_count={Options.PageSize}";
            // A few minutes of overlap: a resource changed while the last run was paging is fetched
            // again (an upsert, harmless) rather than missed.
            if (S.Mode == SyncMode.Incremental && S.FetchedWholeSince.TryGetValue(type, out var whole) && capabilities.HasSearchParam(type, "_lastUpdated"))
            {
                var since = whole - TimeSpan.FromMinutes(5);
                url += "&_lastUpdated=" + Uri.EscapeDataString("ge" + since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            }
            if (type == "MedicationRequest" && (capabilities.HasInclude(type, MedicationInclude) || !capabilities.Known))
            {
                url += "&_include=" + Uri.EscapeDataString(MedicationInclude);
            }

            if (type == "Observation" && capabilities.SaysRequired(type, "category"))
            {
                foreach (var category in Options.ObservationCategories)
                {
                    steps.Add(new SyncStep { Kind = SyncStepKind.Search, ResourceType = type, Url = $"{url}&category={Uri.EscapeDataString(category)}" });
                }
            }
            else
            {
                steps.Add(new SyncStep { Kind = SyncStepKind.Search, ResourceType = type, Url = url, ExpandByCategoryOn400 = type == "Observation" });
            }
        }
        S.Steps = steps;
        S.PlannedTypes = steps.Where(step => step.Kind == SyncStepKind.Search).Select(step => step.ResourceType).Distinct(StringComparer.Ordinal).ToList();
    }

    private async Task<SourceCapabilities> CapabilitiesAsync(CancellationToken token)
    {
        if (_capabilities is not null) return _capabilities;
        try
        {
            // The CapabilityStatement is public: no token goes with it.
            var response = await fhir.GetAsync(new Uri($"{_fhirBase}/metadata"), null, FhirJsonAccept, 16 * 1024 * 1024, token);
            S.Requests++;
            if (response.Ok)
            {
                _capabilities = SourceCapabilities.Parse(response.Body!);
                return _capabilities;
            }
            Note($"metadata: {response.Describe()}; every US Core search was tried");
        }
        catch (Exception e) when (!token.IsCancellationRequested && e is HttpRequestException or System.Text.Json.JsonException or Polly.Timeout.TimeoutRejectedException)
        {
            Note($"metadata: unreadable ({e.GetType().Name}); every US Core search was tried");
        }
        _capabilities = SourceCapabilities.Unknown;
        return _capabilities;
    }

    /// <summary>
    /// The referenced Practitioner / Organization / Location / Medication not yet held: batched
    /// <c>_id</c> searches where the source offers them, reads otherwise.
    /// </summary>
    private async Task QueueReferenceStepsAsync(CancellationToken token)
    {
        var capabilities = await CapabilitiesAsync(token);
        var scopes = _scopes ??= new GrantedScopes((await AccessAsync(token)).Scopes);
        foreach (var group in S.PendingReferences.GroupBy(r => r[..r.IndexOf('/')], StringComparer.Ordinal))
        {
            var type = group.Key;
            var ids = group.Select(r => r[(r.IndexOf('/') + 1)..]).Distinct(StringComparer.Ordinal).ToList();
            var bySearch = capabilities.Known && capabilities.CanSearch(type) && capabilities.HasSearchParam(type, "_id") && scopes.CanSearch(type);
            if (bySearch)
            {
                foreach (var chunk in ids.Chunk(IdsPerSearch))
                {
                    S.Steps.Add(new SyncStep
                    {
                        Kind = SyncStepKind.Search,
                        ResourceType = type,
                        Url = $"{type}?_id={string.Join(',', chunk.Select(Uri.EscapeDataString))}&_count={chunk.Length}",
                    });
                }
            }
            else if (capabilities.CanRead(type) && scopes.CanRead(type))
            {
                S.Steps.AddRange(ids.Select(id => new SyncStep { Kind = SyncStepKind.Read, ResourceType = type, Url = $"{type}/{Uri.EscapeDataString(id)}" }));
            }
            else if (capabilities.Known && capabilities.CanRead(type))
            {
                Note($"{type}: referenced resources not read, the granted scopes do not include {type}");
            }
        }
        S.PendingReferences = [];
    }
}

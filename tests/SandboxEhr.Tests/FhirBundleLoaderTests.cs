using System.Net;

namespace SandboxEhr.Tests;

/// <summary>A sandbox started with <c>--data</c> pointing at the small Bundle shipped in FhirTestData/.</summary>
public sealed class LoadedBundleSandbox : SmallSandbox
{
    public static string DataFolder => Path.Combine(RepositoryRoot(), "tests", "SandboxEhr.Tests", "FhirTestData");

    protected override IEnumerable<string> MoreArguments => ["--data", DataFolder];
}

public sealed class FhirBundleLoaderTests(LoadedBundleSandbox sandbox) : IClassFixture<LoadedBundleSandbox>
{
    private const string PatientId = "0b6c1b0e-4a57-4c1e-9d0c-6f1f0c2a7a01";

    [Fact]
    public async Task Loaded_bundle_becomes_an_extra_hospital_with_its_patient()
    {
        var hospitals = await sandbox.GetJson("/hospitals");
        var synthea = hospitals.EnumerateArray().Single(h => h.GetProperty("id").GetString() == "synthea");
        Assert.Equal("epic", synthea.GetProperty("vendor_profile").GetString());

        var counts = await sandbox.ResourceCounts("synthea", PatientId);
        // The Claim is not served by the epic profile, so it is neither held nor counted.
        Assert.Equal(new Dictionary<string, int>
        {
            ["Encounter"] = 1, ["MedicationRequest"] = 1, ["Observation"] = 2, ["Patient"] = 1,
        }, counts);
        var patient = (await sandbox.PatientListing("synthea")).EnumerateArray().Single();
        Assert.Equal("Harper Quinn", patient.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Urn_uuid_and_conditional_references_are_resolved_to_type_and_id()
    {
        var token = await sandbox.ConnectAsync("synthea", patientId: PatientId);
        Assert.Equal(PatientId, token.Patient);
        var fhir = sandbox.FhirBase("synthea");

        var vitals = await sandbox.FhirOk($"{fhir}/Observation?patient={PatientId}&category=vital-signs", token.AccessToken);
        Assert.Equal(1, vitals.GetProperty("total").GetInt32());
        var observation = vitals.GetProperty("entry")[0].GetProperty("resource");
        Assert.Equal($"Patient/{PatientId}", observation.GetProperty("subject").GetProperty("reference").GetString());
        var encounterRef = observation.GetProperty("encounter").GetProperty("reference").GetString()!;
        Assert.Equal("Encounter/7a2b0c11-0000-4000-8000-00000000b001", encounterRef);

        // The Encounter had no id: it takes the uuid of its fullUrl; its conditional reference finds the Organization.
        var encounter = await sandbox.FhirOk($"{fhir}/{encounterRef}", token.AccessToken);
        Assert.Equal("Organization/5d1e3c55-0000-4000-8000-00000000a001",
            encounter.GetProperty("serviceProvider").GetProperty("reference").GetString());
        Assert.True(encounter.GetProperty("meta").TryGetProperty("lastUpdated", out _));

        var included = await sandbox.FhirOk(
            $"{fhir}/MedicationRequest?patient={PatientId}&_include=MedicationRequest:medication", token.AccessToken);
        var modes = included.GetProperty("entry").EnumerateArray()
            .Select(e => (e.GetProperty("search").GetProperty("mode").GetString(), FhirTestSupport.ResourceKey(e))).ToList();
        Assert.Contains(("include", "Medication/4e5f6a77-0000-4000-8000-00000000d001"), modes);

        var since = await sandbox.FhirOk(
            $"{fhir}/Observation?patient={PatientId}&category=vital-signs,laboratory&_lastUpdated=le2020-12-31", token.AccessToken);
        Assert.Equal(1, since.GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await sandbox.Fhir($"{fhir}/Claim/1f2e3d4c-0000-4000-8000-00000000f001", token.AccessToken)).Status);
    }
}

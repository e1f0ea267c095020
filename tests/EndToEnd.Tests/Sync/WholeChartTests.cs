using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Sync;

/// <summary>The sandbox's community hospital (US Core plus Claim, ImagingStudy, MedicationDispense, ServiceRequest) in the directory.</summary>
public sealed class WholeChartServices : ServiceProcesses
{
    protected override void AddSiloEnvironment(Dictionary<string, string> env)
    {
        const string prefix = "Directory__Sources__4__";
        env[prefix + "Name"] = "Northgate Community Hospital";
        env[prefix + "Vendor"] = "community";
        env[prefix + "FhirBaseUrl"] = FhirBase("northgate");
        env[prefix + "City"] = "Duluth";
        env[prefix + "State"] = "MN";
        env[prefix + "Zip"] = "55802";
        env[prefix + "ClientId"] = "sandbox-public";
        env[prefix + "AuthMethod"] = "none";
    }
}

/// <summary>
/// The whole chart: against a source whose CapabilityStatement declares more of the patient compartment
/// than US Core, the session asks for those types' scopes and the sync stores every type the source
/// serves, each count equal to the sandbox's resource_counts.
/// </summary>
public sealed class WholeChartTests(WholeChartServices services) : EndToEndTest(services), IClassFixture<WholeChartServices>
{
    private static readonly string[] ExtraTypes = ["Claim", "ImagingStudy", "MedicationDispense", "ServiceRequest"];

    [Fact]
    public async Task Every_type_the_community_hospital_serves_is_stored_with_the_sandbox_counts()
    {
        var expected = await SyncSupport.SmallestPatientAsync(Services, "northgate", 50, 3000,
            p => ExtraTypes.All(t => p.ResourceCounts.GetValueOrDefault(t) > 0));
        var patient = NewPatientId("chart");
        var connectionId = await SyncSupport.ConnectAsync(Flow, patient, "northgate", expected.Id);
        var connection = await SyncSupport.WaitForSyncAsync(ApiA, connectionId);
        Assert.Equal("completed", connection["sync"].Str("status"));

        var scopes = connection["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).ToList();
        Assert.All(ExtraTypes, t => Assert.Contains(scopes, s => s.StartsWith($"patient/{t}.", StringComparison.Ordinal)));

        var records = await SyncSupport.AllRecordsAsync(ApiA, patient);
        SyncSupport.AssertSameAsSandbox(expected, records);
        var stored = SyncSupport.CountByType(records);
        Assert.All(ExtraTypes, t => Assert.Equal(expected.ResourceCounts[t], stored.GetValueOrDefault(t)));
        Assert.All(ExtraTypes, t => Assert.Equal(expected.ResourceCounts[t], connection["sync"]!["counts"]![t]!.GetValue<long>()));
    }

    [Fact]
    public async Task A_source_without_the_extra_types_is_asked_and_synced_as_before()
    {
        // The payer serves none of the extra types: none of their scopes is asked for, and its chart is what it was.
        var expected = await SyncSupport.SmallestPatientAsync(Services, "summit", 20, 2000);
        var patient = NewPatientId("payer");
        var connectionId = await SyncSupport.ConnectAsync(Flow, patient, "summit", expected.Id);
        var connection = await SyncSupport.WaitForSyncAsync(ApiA, connectionId);
        Assert.Equal("completed", connection["sync"].Str("status"));
        var scopes = connection["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).ToList();
        Assert.DoesNotContain(scopes, s => ExtraTypes.Any(t => s.StartsWith($"patient/{t}.", StringComparison.Ordinal)));
        SyncSupport.AssertSameAsSandbox(expected, await SyncSupport.AllRecordsAsync(ApiA, patient));
    }
}

using System.Text.Json;

namespace SandboxEhr.Tests;

/// <summary>Two sandbox processes started alike, to compare what their generators made.</summary>
public sealed class TwinSandboxes : IAsyncLifetime
{
    public SmallSandbox First { get; } = new();
    public SmallSandbox Second { get; } = new();

    public async ValueTask InitializeAsync() => await Task.WhenAll(First.InitializeAsync().AsTask(), Second.InitializeAsync().AsTask());

    public async ValueTask DisposeAsync()
    {
        await First.DisposeAsync();
        await Second.DisposeAsync();
    }
}

public sealed class FhirDeterminismTests(TwinSandboxes twins) : IClassFixture<TwinSandboxes>
{
    [Theory]
    [InlineData("riverside", "laboratory")]
    [InlineData("lakeside", "vital-signs")]
    [InlineData("summit", "laboratory")]
    public async Task Two_starts_generate_identical_patients_and_resources(string hospitalId, string category)
    {
        var first = await twins.First.PatientListing(hospitalId);
        var second = await twins.Second.PatientListing(hospitalId);
        Assert.Equal(first.GetRawText(), second.GetRawText());

        foreach (var patient in first.EnumerateArray())
        {
            var patientId = patient.GetProperty("id").GetString()!;
            var a = await Resources(twins.First, hospitalId, patientId, category);
            var b = await Resources(twins.Second, hospitalId, patientId, category);
            Assert.NotEmpty(a);
            Assert.Equal(a, b);
        }
    }

    /// <summary>The raw JSON of the patient and of one category of Observations, in the server's order.</summary>
    private static async Task<List<string>> Resources(SandboxProcess sandbox, string hospitalId, string patientId, string category)
    {
        var token = await sandbox.ConnectAsync(hospitalId, patientId: patientId);
        var fhir = sandbox.FhirBase(hospitalId);
        var patient = await sandbox.FhirOk($"{fhir}/Patient/{patientId}", token.AccessToken);
        var walk = await sandbox.SearchAll($"{fhir}/Observation?patient={patientId}&category={category}", token.AccessToken);
        return [patient.GetRawText(), .. walk.Matches.Select(e => e.GetProperty("resource").GetRawText())];
    }
}

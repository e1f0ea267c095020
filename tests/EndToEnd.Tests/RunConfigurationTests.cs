using System.Diagnostics;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>What ./run.sh and docker-compose feed the service agrees with the sandbox it starts.</summary>
public sealed class RunConfigurationTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Theory]
    [InlineData("sources.sandbox.json", "http://127.0.0.1:8090")]
    [InlineData("sources.compose.json", "http://sandbox.localhost:8090")]
    public async Task Directory_file_lists_every_sandbox_hospital_as_the_sandbox_describes_it(string file, string origin)
    {
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "config", file), Cancel))!;
        var sources = config["Directory"]!["Sources"]!.AsArray();
        var hospitals = JsonNode.Parse(await Anonymous.GetStringAsync(new Uri(Services.SandboxBase, "hospitals"), Cancel))!.AsArray();

        Assert.Equal(hospitals.Count, sources.Count);
        foreach (var hospital in hospitals)
        {
            var id = hospital.Str("id")!;
            var source = sources.SingleOrDefault(s => s.Str("FhirBaseUrl") == $"{origin}/hospitals/{id}/fhir");
            Assert.True(source is not null, $"{file} has no source for {id}");
            Assert.Equal(hospital.Str("name"), source.Str("Name"));
            Assert.Equal(hospital.Str("city"), source.Str("City"));
            Assert.Equal(hospital.Str("state"), source.Str("State"));
            Assert.Equal(hospital.Str("zip"), source.Str("Zip"));
            Assert.Equal(hospital.Str("vendor_profile") ?? hospital.Str("vendorProfile"), source.Str("Vendor"));
            if (id == "lakeside")
            {
                Assert.Equal("sandbox-confidential", source.Str("ClientId"));
                Assert.Equal("client_secret_basic", source.Str("AuthMethod"));
                Assert.Equal("sandbox-secret", source.Str("ClientSecret"));
            }
            else
            {
                Assert.Equal("sandbox-public", source.Str("ClientId"));
                Assert.Equal("none", source.Str("AuthMethod"));
            }
        }
    }

    [Fact]
    public async Task Run_script_parses_and_refuses_bad_options_before_starting_anything()
    {
        Assert.Equal(0, (await BashAsync("-n", "run.sh")).Code);
        Assert.Equal(0, (await BashAsync("-n", "bench.sh")).Code);
        var help = await BashAsync("run.sh", "--help");
        Assert.Equal(0, help.Code);
        Assert.Contains("--silos", help.Output, StringComparison.Ordinal);
        var zero = await BashAsync("run.sh", "--silos", "0");
        Assert.Equal(2, zero.Code);
        var unknown = await BashAsync("run.sh", "--bogus");
        Assert.Equal(2, unknown.Code);
    }

    private static async Task<(int Code, string Output)> BashAsync(params string[] args)
    {
        var info = new ProcessStartInfo("bash")
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Cancel);
        var stderr = process.StandardError.ReadToEndAsync(Cancel);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

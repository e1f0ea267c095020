using System.Diagnostics;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>docker-compose.yml is checked by Debian's docker-compose 1.29, which needs no Docker engine for `config`.</summary>
public sealed class DockerComposeTests
{
    private static readonly Dictionary<string, string?> Secrets = new()
    {
        ["PATIENTCONNECT_TOKEN_ENCRYPTION_KEY"] = Convert.ToBase64String(new byte[32]),
        ["PATIENTCONNECT_ADMIN_PASSWORD"] = "compose-test",
    };

    [Fact]
    public async Task Compose_file_is_valid()
    {
        var (code, _, errors) = await ComposeAsync(Secrets, "config", "-q");
        Assert.True(code == 0, errors);
    }

    [Fact]
    public async Task Compose_file_has_the_five_services()
    {
        var (code, output, errors) = await ComposeAsync(Secrets, "config", "--services");
        Assert.True(code == 0, errors);
        var services = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order().ToList();
        Assert.Equal(["api", "migrate", "postgres", "sandbox", "silo"], services);
    }

    [Fact]
    public async Task Silo_service_scales_without_fixed_host_ports_and_waits_for_the_migration()
    {
        var (code, output, errors) = await ComposeAsync(Secrets, "config");
        Assert.True(code == 0, errors);
        var silo = ServiceBlock(output, "silo");
        Assert.DoesNotContain("ports:", silo, StringComparison.Ordinal);
        Assert.Contains("replicas:", silo, StringComparison.Ordinal);
        Assert.Contains("condition: service_completed_successfully", silo, StringComparison.Ordinal);
        var migrate = ServiceBlock(output, "migrate");
        Assert.Contains("--migrate-only", migrate, StringComparison.Ordinal);
        Assert.Contains("condition: service_healthy", migrate, StringComparison.Ordinal);
        var api = ServiceBlock(output, "api");
        Assert.Contains("condition: service_completed_successfully", api, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", api, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_long_running_service_has_a_healthcheck_and_three_silos_are_ready_before_the_api()
    {
        var (code, output, errors) = await ComposeAsync(Secrets, "config");
        Assert.True(code == 0, errors);
        foreach (var service in new[] { "postgres", "sandbox", "silo", "api" })
        {
            Assert.Contains("healthcheck:", ServiceBlock(output, service), StringComparison.Ordinal);
        }
        var silo = ServiceBlock(output, "silo");
        Assert.Contains("replicas: 3", silo, StringComparison.Ordinal);
        Assert.Contains("/health/ready", silo, StringComparison.Ordinal);
        var api = ServiceBlock(output, "api");
        var siloDependency = api[api.IndexOf("    silo:", StringComparison.Ordinal)..];
        Assert.StartsWith("    silo:\n        condition: service_healthy", siloDependency.Replace("\r", ""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compose_refuses_to_start_without_the_secrets()
    {
        var (code, _, errors) = await ComposeAsync(new Dictionary<string, string?>
        {
            ["PATIENTCONNECT_TOKEN_ENCRYPTION_KEY"] = null,
            ["PATIENTCONNECT_ADMIN_PASSWORD"] = null,
        }, "config", "-q");
        Assert.NotEqual(0, code);
        Assert.Contains("PATIENTCONNECT_", errors, StringComparison.Ordinal);
    }

    /// <summary>The lines of one service in `config` output (two-space indented under services:).</summary>
    private static string ServiceBlock(string config, string service)
    {
        var lines = config.Split('\n');
        var start = Array.FindIndex(lines, l => l == $"  {service}:");
        Assert.True(start >= 0, $"no service {service} in:\n{config}");
        var block = lines.Skip(start + 1).TakeWhile(l => l.StartsWith("    ", StringComparison.Ordinal) || l.Length == 0);
        return string.Join('\n', block);
    }

    private static async Task<(int Code, string Output, string Errors)> ComposeAsync(IReadOnlyDictionary<string, string?> env, params string[] args)
    {
        var exe = RequiredTool.DockerCompose();
        var info = new ProcessStartInfo(exe)
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-f");
        info.ArgumentList.Add(Path.Combine(RepoPaths.Root, "docker-compose.yml"));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in env)
        {
            if (value is null) info.Environment.Remove(key);
            else info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }
}

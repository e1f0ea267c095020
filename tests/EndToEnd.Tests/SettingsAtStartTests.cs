using System.Security.Cryptography;
using PatientConnect.EndToEnd.Tests.Infrastructure;
using PatientConnect.EndToEnd.Tests.Migrations;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>
/// A bad setting stops the real process before it joins the cluster or serves a request, with exit
/// code 1 (silo) or a failed start (Api) and a message naming the setting. One case per option class.
/// </summary>
public sealed class SettingsAtStartTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("PatientConnect__Sync__Concurrency", "0", "PatientConnect:Sync:Concurrency")]
    [InlineData("PatientConnect__Refresh__RetryBaseDelay", "-00:00:05", "PatientConnect:Refresh:RetryBaseDelay")]
    [InlineData("PatientConnect__Webhooks__PollInterval", "-00:00:01", "PatientConnect:Webhooks:PollInterval")]
    [InlineData("PatientConnect__PublicBaseUrl", "not-a-url", "PatientConnect:PublicBaseUrl")]
    [InlineData("PatientConnect__Telemetry__LogFormat", "xml", "PatientConnect:Telemetry:LogFormat")]
    [InlineData("Orleans__SiloPort", "0", "Orleans:SiloPort")]
    public async Task Silo_refuses_to_start_with_a_bad_setting_and_names_it(string variable, string value, string key)
    {
        var run = await SiloCommand.RunAsync(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = TestDatabase.AdminConnectionString,
            ["PatientConnect__TokenEncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Orleans__ClusterId"] = "settings-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)),
            [variable] = value,
        }, TimeSpan.FromSeconds(60), Cancel);
        Assert.True(run.ExitCode == 1, run.All);
        Assert.Contains(key, run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_refuses_to_start_with_half_an_admin_credential_and_names_it()
    {
        var run = await SiloCommand.RunAsync(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = TestDatabase.AdminConnectionString,
            ["Orleans__ClusterId"] = "settings-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)),
            ["PatientConnect__Admin__Username"] = "admin",
        }, TimeSpan.FromSeconds(60), Cancel, RepoPaths.ApiDll);
        Assert.True(run.ExitCode != 0, run.All);
        Assert.Contains("PatientConnect:Admin:Password", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
    }

    public static TheoryData<string> Processes => new() { "silo", "api" };

    [Theory]
    [MemberData(nameof(Processes))]
    public async Task Api_and_silo_read_the_cluster_settings_from_one_shared_file_and_refuse_a_bad_one(string process)
    {
        var dll = process == "api" ? RepoPaths.ApiDll : RepoPaths.SiloDll;
        var file = Path.Combine(Path.GetTempPath(), $"pc-shared-{Guid.NewGuid():N}.json");
        // The same file for both kinds of process: a cluster id with a space in it is refused by both.
        await File.WriteAllTextAsync(file, $$"""
            { "ConnectionStrings": { "Postgres": "{{TestDatabase.AdminConnectionString}}" },
              "Orleans": { "ClusterId": "two words" } }
            """, Cancel);
        try
        {
            var bad = await SiloCommand.RunAsync(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string>
            {
                ["PatientConnect__SharedSettingsFile"] = file,
                ["PatientConnect__TokenEncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            }, TimeSpan.FromSeconds(60), Cancel, dll);
            Assert.True(bad.ExitCode != 0, bad.All);
            Assert.Contains("Orleans:ClusterId", bad.StandardOutput + bad.StandardError, StringComparison.Ordinal);

            var missing = await SiloCommand.RunAsync(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string>
            {
                ["PatientConnect__SharedSettingsFile"] = file + ".missing",
            }, TimeSpan.FromSeconds(60), Cancel, dll);
            Assert.True(missing.ExitCode != 0, missing.All);
            Assert.Contains("PatientConnect:SharedSettingsFile", missing.StandardOutput + missing.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_silo_takes_the_database_from_the_shared_file_and_the_environment_overrides_the_file()
    {
        await using var database = await TestDatabase.CreateAsync();
        var file = Path.Combine(Path.GetTempPath(), $"pc-shared-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, $$"""
            { "ConnectionStrings": { "Postgres": "{{database.ConnectionString}}" } }
            """, Cancel);
        try
        {
            // No connection string in the environment: the file's is used, and the schema is applied there.
            var fromFile = await SiloCommand.RunAsync(["--migrate-only"], new Dictionary<string, string>
            {
                ["PatientConnect__SharedSettingsFile"] = file,
            }, TimeSpan.FromSeconds(90), Cancel);
            Assert.True(fromFile.ExitCode == 0, fromFile.All);
            Assert.True(fromFile.Summary().Applied > 0, fromFile.All);
            await using (var connection = database.OpenConnection())
            await using (var command = new Npgsql.NpgsqlCommand("SELECT to_regclass('pc_connection_status') IS NOT NULL", connection))
            {
                Assert.Equal(true, await command.ExecuteScalarAsync(Cancel));
            }

            // The environment wins over the file: a broken connection string there is the one refused.
            var overridden = await SiloCommand.RunAsync(["--migrate-only"], new Dictionary<string, string>
            {
                ["PatientConnect__SharedSettingsFile"] = file,
                ["ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=notaport",
            }, TimeSpan.FromSeconds(90), Cancel);
            Assert.True(overridden.ExitCode == 1, overridden.All);
            Assert.Contains("ConnectionStrings:Postgres", overridden.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

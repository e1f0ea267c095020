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
}

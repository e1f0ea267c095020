using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace PatientConnect.Grains.Tests;

/// <summary>
/// Every option class the grains bind is checked at start (ValidateOnStart) through the same
/// registration the silo uses; a bad value fails with a message naming its full key.
/// </summary>
public sealed class SettingsValidationTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        Validate(new Dictionary<string, string?>());
    }

    [Theory]
    [InlineData("PatientConnect:PublicBaseUrl", "not a url")]
    [InlineData("PatientConnect:PublicBaseUrl", "ftp://example.org")]
    public void PatientConnect_options_name_the_bad_setting(string key, string value) => AssertNamed(key, value);

    [Theory]
    [InlineData("PatientConnect:Sync:Concurrency", "0")]
    [InlineData("PatientConnect:Sync:PageSize", "-1")]
    [InlineData("PatientConnect:Sync:RequestsPerSecondPerSource", "0")]
    [InlineData("PatientConnect:Sync:MaxRetries", "-1")]
    [InlineData("PatientConnect:Sync:AttemptTimeout", "00:00:00")]
    [InlineData("PatientConnect:Sync:MaxRetryDelay", "-00:00:01")]
    public void Sync_options_name_the_bad_setting(string key, string value) => AssertNamed(key, value);

    [Theory]
    [InlineData("PatientConnect:Refresh:Margin", "-00:01:00")]
    [InlineData("PatientConnect:Refresh:MarginFraction", "1.5")]
    [InlineData("PatientConnect:Refresh:MinimumMargin", "00:10:00")]
    [InlineData("PatientConnect:Refresh:ReminderPeriod", "00:00:00")]
    [InlineData("PatientConnect:Refresh:RetryBaseDelay", "-00:00:05")]
    [InlineData("PatientConnect:Refresh:RetryMaxDelay", "00:00:01")]
    [InlineData("PatientConnect:Refresh:SchedulerConcurrency", "0")]
    [InlineData("PatientConnect:Refresh:ClaimLease", "00:00:05")]
    public void Refresh_options_name_the_bad_setting(string key, string value) => AssertNamed(key, value);

    [Theory]
    [InlineData("PatientConnect:Webhooks:PollInterval", "-00:00:01")]
    [InlineData("PatientConnect:Webhooks:RetryWindow", "01:00:00")]
    [InlineData("PatientConnect:Webhooks:HttpTimeout", "00:00:00")]
    [InlineData("PatientConnect:Webhooks:PerEndpointConcurrency", "0")]
    [InlineData("PatientConnect:Webhooks:MaxInFlight", "0")]
    [InlineData("PatientConnect:Webhooks:Lease", "00:00:05")]
    public void Webhook_options_name_the_bad_setting(string key, string value) => AssertNamed(key, value);

    [Theory]
    [InlineData("PatientConnect:Retention:Interval", "00:00:10")]
    [InlineData("PatientConnect:Retention:WebhookHistory", "01:00:00")]
    [InlineData("PatientConnect:Retention:IdempotencyRecords", "12:00:00")]
    [InlineData("PatientConnect:Retention:BatchSize", "0")]
    [InlineData("PatientConnect:Retention:SessionHistory", "01:00:00")]
    public void Retention_options_name_the_bad_setting(string key, string value) => AssertNamed(key, value);

    [Fact]
    public void Every_failure_of_a_section_is_reported_at_once()
    {
        var e = Assert.Throws<OptionsValidationException>(() => Validate(new Dictionary<string, string?>
        {
            ["PatientConnect:Sync:Concurrency"] = "0",
            ["PatientConnect:Sync:PageSize"] = "0",
        }));
        Assert.Contains("PatientConnect:Sync:Concurrency", e.Message, StringComparison.Ordinal);
        Assert.Contains("PatientConnect:Sync:PageSize", e.Message, StringComparison.Ordinal);
    }

    private static void AssertNamed(string key, string value)
    {
        var e = Assert.Throws<OptionsValidationException>(() => Validate(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    private static void Validate(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddPatientConnectGrains(configuration);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
    }
}

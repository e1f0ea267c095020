using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Npgsql;
using PatientConnect.ServiceDefaults;

namespace PatientConnect.Grains.Tests;

/// <summary>The shared connection string turns Npgsql's automatic preparation on unless the operator set it.</summary>
public sealed class ClusterSettingsTests
{
    private static NpgsqlConnectionStringBuilder Read(string postgres) =>
        new(ClusterSettings.Read(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [ClusterSettings.PostgresKey] = postgres })
            .Build()).Postgres);

    [Fact]
    public void A_connection_string_without_preparation_settings_gets_automatic_preparation()
    {
        var csb = Read("Host=127.0.0.1;Port=5432;Username=u;Password=p;Database=d");
        Assert.Equal(ClusterSettings.DefaultMaxAutoPrepare, csb.MaxAutoPrepare);
        Assert.Equal(ClusterSettings.DefaultAutoPrepareMinUsages, csb.AutoPrepareMinUsages);
        // Nothing else changed.
        Assert.Equal(("127.0.0.1", 5432, "u", "p", "d"), (csb.Host, csb.Port, csb.Username, csb.Password, csb.Database));
    }

    [Theory]
    [InlineData("Max Auto Prepare=0", 0)]
    [InlineData("MaxAutoPrepare=10", 10)]
    [InlineData("max auto prepare=5", 5)]
    public void The_operators_own_setting_wins_even_when_it_turns_preparation_off(string setting, int expected)
    {
        var csb = Read($"Host=127.0.0.1;Username=u;Password=p;Database=d;{setting}");
        Assert.Equal(expected, csb.MaxAutoPrepare);
    }

    [Fact]
    public void Load_leaves_the_effective_connection_string_in_the_configuration_every_store_reads()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [ClusterSettings.PostgresKey] = "Host=127.0.0.1;Username=u;Password=p;Database=d",
        });
        var settings = ClusterSettings.Load(builder);
        Assert.Equal(settings.Postgres, builder.Configuration.GetConnectionString("Postgres"));
        Assert.Equal(ClusterSettings.DefaultMaxAutoPrepare, new NpgsqlConnectionStringBuilder(builder.Configuration.GetConnectionString("Postgres")).MaxAutoPrepare);
    }

    [Fact]
    public void An_operators_minimum_usage_is_kept()
    {
        var csb = Read("Host=127.0.0.1;Username=u;Password=p;Database=d;Auto Prepare Min Usages=7");
        Assert.Equal(ClusterSettings.DefaultMaxAutoPrepare, csb.MaxAutoPrepare);
        Assert.Equal(7, csb.AutoPrepareMinUsages);
    }
}

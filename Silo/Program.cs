using PatientConnect.Silo;
using PatientConnect.Silo.Migrations;
using PatientConnect.Api.Hosting;
using PatientConnect.ServiceDefaults;

// Exit codes: 0 ok, 1 configuration missing or invalid, 2 database unreachable, 3 migration failed.
var migrateOnly = args.Contains(SiloSettings.MigrateOnlySwitch, StringComparer.OrdinalIgnoreCase);
// A bare switch would swallow the next argument as its value in the command-line configuration.
var hostArgs = args.Where(a => !string.Equals(a, SiloSettings.MigrateOnlySwitch, StringComparison.OrdinalIgnoreCase)).ToArray();

// A web host so every silo serves /health/live, /health/ready and /metrics on its own HTTP port.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = hostArgs,
    // appsettings.json next to the dll, whatever the working directory (tests, compose, run.sh).
    ContentRootPath = AppContext.BaseDirectory,
});

SiloSettings settings;
ClusterSettings cluster;
try
{
    // The settings shared with the Api first (an optional file), then the silo's own.
    cluster = ClusterSettings.Load(builder);
    SiloSettings.AddSourcesFile(builder.Configuration);
    settings = SiloSettings.Read(builder.Configuration, requireSiloKeys: !migrateOnly);
}
catch (Exception e) when (e is SiloConfigurationException or ClusterSettingsException)
{
    Console.Error.WriteLine($"PatientConnect.Silo: {e.Message}");
    return 1;
}

// The Api inside this silo (PatientConnect:Api:InSilo): the same routes on this silo's HTTP port,
// calling grains through the silo itself (local activations without the gateway hop). Off by default;
// see README "Performance" for what it measured.
var apiInSilo = !migrateOnly && builder.Configuration.GetValue("PatientConnect:Api:InSilo", false);
if (!migrateOnly)
{
    builder.AddPatientConnectSilo(settings);
    if (apiInSilo) builder.AddPatientConnectApi(cluster, new PatientConnect.Api.Health.ClusterConnectionState());
}

using var host = builder.Build();
var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PatientConnect.Silo");

if (!migrateOnly)
{
    try
    {
        SiloHostExtensions.ResolveGrainServices(host.Services);
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"PatientConnect.Silo: invalid configuration: {e.Message}");
        return 1;
    }
    if (apiInSilo)
    {
        // The Api's own /health (a grain and Postgres answer) and /metrics come with it.
        host.UsePatientConnectApi();
    }
    else
    {
        host.MapDefaultEndpoints();
    }
}

var migrated = await SchemaMigration.MigrateAsync(host.Services, settings, logger);
if (migrated != 0)
{
    return migrated;
}

if (migrateOnly)
{
    return 0;
}

var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
try
{
    await host.RunAsync();
}
catch (Exception e) when (lifetime.ApplicationStopping.IsCancellationRequested)
{
    // SIGTERM / Ctrl-C while the silo was still joining: Orleans cancels its start and the host
    // rethrows. Being told to stop is not a crash; the cluster treats the half-joined silo as gone.
    logger.LogWarning("Stopped while starting: {Reason}", e.Message);
}

return 0;

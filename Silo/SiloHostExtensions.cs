using Orleans.Configuration;
using Orleans.Dashboard;
using PatientConnect.Grains;
using PatientConnect.Grains.Security;
using PatientConnect.Grains.Sources;
using PatientConnect.Grains.Webhooks;
using PatientConnect.Silo.Telemetry;
using PatientConnect.Silo.Tenants;

namespace PatientConnect.Silo;

public static class SiloHostExtensions
{
    /// <summary>The grain storage every grain names in <c>[PersistentState(..., "store")]</c>.</summary>
    public const string StorageName = "store";

    // ADO.NET providers look the factory up by this name; "PostgreSQL" is not registered.
    private const string Invariant = "Npgsql";

    public static WebApplicationBuilder AddPatientConnectSilo(this WebApplicationBuilder builder, SiloSettings settings)
    {
        var configuration = builder.Configuration;

        builder.Services.AddPatientConnectGrains(configuration);
        builder.AddSiloTelemetryAndHealth();

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            silo.ConfigureEndpoints(settings.AdvertisedIp, settings.SiloPort, settings.GatewayPort,
                listenOnAnyHostAddress: settings.ListenOnAnyHostAddress);

            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = settings.ConnectionString;
            });
            silo.AddAdoNetGrainStorage(StorageName, o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = settings.ConnectionString;
            });
            // Plain JSON rows instead of Newtonsoft with $type: renaming a state type keeps its data.
            silo.UseSystemTextJsonGrainStorageSerializer();
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = settings.ConnectionString;
            });

            // The Api hosts the dashboard page; its data calls land on IDashboardGrain in every silo.
            silo.AddDashboard();
            // Grain calls continue the caller's trace (the Api request, a sync run) across silos.
            silo.AddActivityPropagation();
            silo.AddIncomingGrainCallFilter<GrainCallScopeFilter>();

            // Tuning hooks for tests and operators (failure detection speed, reminder floor).
            silo.Services.Configure<ClusterMembershipOptions>(configuration.GetSection("Orleans:Membership"));
            // Not "Orleans:Reminders": Orleans 10 reads that section as reminder *provider* configuration
            // and then fails at start looking for a provider named "Default".
            silo.Services.Configure<ReminderOptions>(configuration.GetSection("PatientConnect:ReminderOptions"));
        });

        // Registered after UseOrleans, so it starts once the silo is active.
        builder.Services.AddHostedService<ApiKeySeeder>();
        builder.Services.AddHostedService<Retention.RetentionScheduler>();
        builder.Services.AddPatientConnectWebhookDispatcher();

        builder.Services.Configure<HostOptions>(o =>
        {
            // Room for Orleans to hand grains off and leave the membership table cleanly on SIGTERM.
            o.ShutdownTimeout = TimeSpan.FromSeconds(
                configuration.GetValue("PatientConnect:ShutdownTimeoutSeconds", 30));
        });

        return builder;
    }

    /// <summary>
    /// Builds the services the grains resolve lazily (the source directory, the token key), so a
    /// malformed directory entry or key stops the silo now, with its message, instead of failing
    /// a patient's first click.
    /// </summary>
    public static void ResolveGrainServices(IServiceProvider services)
    {
        // Every options class registered with ValidateOnStart, checked now: a bad value stops the silo
        // with exit code 1 and the failures (each naming its key) before it joins the cluster.
        services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
        _ = services.GetRequiredService<SourceCatalog>();
        _ = services.GetRequiredService<TokenProtector>();
    }
}

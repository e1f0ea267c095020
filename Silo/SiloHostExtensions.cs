using PatientConnect.Grains.Storage;
using Orleans.Configuration;
using Orleans.Dashboard;
using PatientConnect.Grains;
using PatientConnect.Grains.Resilience;
using PatientConnect.Grains.Security;
using PatientConnect.Grains.Sources;
using PatientConnect.Grains.Webhooks;
using PatientConnect.Silo.Logging;
using PatientConnect.Silo.Telemetry;
using PatientConnect.Silo.Tenants;

namespace PatientConnect.Silo;

public static class SiloHostExtensions
{
    /// <summary>The grain storage every grain names in <c>[PersistentState(..., "store")]</c>.</summary>
    public const string StorageName = "store";

    /// <summary>The ADO.NET provider itself, reached only through the wrapper registered as <see cref="StorageName"/>.</summary>
    private const string PostgresStorageName = "store-postgres";

    // ADO.NET providers look the factory up by this name; "PostgreSQL" is not registered.
    private const string Invariant = "Npgsql";

    public static WebApplicationBuilder AddPatientConnectSilo(this WebApplicationBuilder builder, SiloSettings settings)
    {
        var configuration = builder.Configuration;

        builder.Services.AddPatientConnectGrains(configuration);
        builder.AddSiloTelemetryAndHealth();
        // After every provider (console, JSON, OpenTelemetry) is added: all of them are rate-limited.
        builder.Logging.AddRateLimit();

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
            silo.AddAdoNetGrainStorage(PostgresStorageName, o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = settings.ConnectionString;
            });
            // Grains name "store": the Postgres storage behind a wrapper that turns "database away"
            // into the typed transient error (a 503 in the Api) even while a grain activates.
            silo.Services.AddKeyedSingleton<Orleans.Storage.IGrainStorage>(StorageName, (sp, _) =>
                new UnavailableAwareGrainStorage(sp.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(PostgresStorageName)));
            silo.UsePatientConnectStorageSerializer();
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

            silo.AddPatientConnectResilience();

            // Failure detection for silos on one LAN (defaults are for the cloud: 5 s probes, 3 misses,
            // ~10-15 s to declare a SIGKILLed silo dead, and every call to its grains waits that long).
            // Probes every 2 s and 2 misses declare it dead in ~4-6 s; a GC pause of a few hundred ms
            // on a busy host is still far from a false suspicion. Operators override under Orleans:Membership.
            silo.Services.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(2);
                o.NumMissedProbesLimit = 2;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(10);
            });
            silo.Services.Configure<ClusterMembershipOptions>(configuration.GetSection("Orleans:Membership"));
            // Grain-to-grain calls: the slowest legitimate one is a token call to an EHR (its own HTTP
            // timeouts are 10-25 s); methods marked [ResponseTimeout] are tighter.
            silo.Services.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(30));
            // Not "Orleans:Reminders": Orleans 10 reads that section as reminder *provider* configuration
            // and then fails at start looking for a provider named "Default".
            silo.Services.Configure<ReminderOptions>(configuration.GetSection("PatientConnect:ReminderOptions"));
        });

        // Registered after UseOrleans, so it starts once the silo is active.
        builder.Services.AddHostedService<ApiKeySeeder>();
        builder.Services.AddHostedService<Retention.RetentionScheduler>();
        builder.Services.AddPatientConnectWebhookDispatcher();
        builder.Services.AddPatientConnectSessionScheduler();
        builder.Services.AddHostedService<PatientConnect.Grains.Security.TokenKeyRotation>();

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

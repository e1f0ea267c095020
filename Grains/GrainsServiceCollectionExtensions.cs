using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using PatientConnect.Grains.Security;
using PatientConnect.Grains.Smart;
using PatientConnect.Grains.Sources;
using PatientConnect.Grains.Webhooks;
using PatientConnect.Grains.Connections;
using PatientConnect.Grains.Refresh;
using PatientConnect.Grains.Outbound;

namespace PatientConnect.Grains;

public static class GrainsServiceCollectionExtensions
{
    /// <summary>
    /// Everything the grains need besides Orleans itself: options, the source catalog, the token
    /// protector, the SMART client and its HttpClient, and the clock. The silo calls it once.
    /// </summary>
    public static IServiceCollection AddPatientConnectGrains(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PatientConnectOptions>()
            .Bind(configuration.GetSection(PatientConnectOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PatientConnectOptions>, PatientConnectOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        // Idle connection grains go after a minute; the collector has to look more often than that.
        services.Configure<Orleans.Configuration.GrainCollectionOptions>(o => o.CollectionQuantum = Connections.ConnectionGrain.CollectionQuantum);
        // Built at first resolve, so a malformed directory entry or a missing key stops the silo at
        // start (the silo resolves both) rather than at a patient's first click.
        services.TryAddSingleton(_ => SourceCatalog.FromConfiguration(configuration));
        services.TryAddSingleton(sp => new TokenProtector(sp.GetRequiredService<IOptions<PatientConnectOptions>>()));
        services.TryAddSingleton<SmartClient>();
        services.AddOptions<OutboundOptions>().Bind(configuration.GetSection(OutboundOptions.SectionName));
        // Every outbound HttpClient connects through the guard (see ConfigurePrimaryHttpMessageHandler below and in Sync and Webhooks).
        services.TryAddSingleton(sp => new OutboundGuard(sp.GetRequiredService<IOptions<OutboundOptions>>()));
        Sync.SyncServiceCollectionExtensions.AddPatientConnectSync(services, configuration);
        Sync.CompartmentTypeServiceCollectionExtensions.AddPatientConnectCompartmentTypes(services, configuration);
        services.AddPatientConnectEventOutbox(configuration);
        AddSessionStore(services, configuration);
        services.AddPatientConnectRefresh(configuration);
        services.AddOptions<AuthorizationOptions>().Bind(configuration.GetSection(AuthorizationOptions.SectionName));

        services.AddHttpClient(SmartClient.HttpClientName, client =>
            {
                client.DefaultRequestHeaders.UserAgent.ParseAdd("PatientConnect/1.0");
                // A CapabilityStatement can be large; anything bigger than this is not a SMART answer.
                client.MaxResponseContentBufferSize = 8 * 1024 * 1024;
            })
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<OutboundGuard>().Protect(new SocketsHttpHandler
            {
                // Redirects are not followed: a token endpoint that redirects would have the code re-sent
                // to wherever it points.
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            }))
            .AddStandardResilienceHandler(o =>
            {
                // Retries are for discovery, JWKS and other GETs only. The code exchange is a one-time
                // POST: a second try after a lost answer only earns invalid_grant, so POSTs are never retried.
                o.Retry.DisableForUnsafeHttpMethods();
                o.Retry.MaxRetryAttempts = 2;
                o.Retry.Delay = TimeSpan.FromMilliseconds(300);
                o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(10);
                o.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(25);
                // The breaker's sampling window must be at least twice the attempt timeout.
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(30);
            })
            // One circuit per EHR host: one hospital being down must not open the breaker for all.
            .SelectPipelineByAuthority();

        return services;
    }

    /// <summary>
    /// The storage the session grains name (<see cref="Sessions.SessionStore.Name"/>): pc_patient_sessions when
    /// ConnectionStrings:Postgres is set (every silo), otherwise memory (the in-process test cluster). The
    /// same object answers patients' lists and the expiry schedule (<see cref="Sessions.ISessionIndex"/>).
    /// </summary>
    private static void AddSessionStore(IServiceCollection services, IConfiguration configuration)
    {
        Func<IServiceProvider, Sessions.ISessionIndex> store = string.IsNullOrWhiteSpace(configuration.GetConnectionString("Postgres"))
            ? sp => new Sessions.InMemorySessionStore(
                sp.GetRequiredService<Orleans.Storage.IGrainStorageSerializer>(), sp.GetRequiredService<TimeProvider>())
            : sp => new Sessions.PostgresSessionStore(
                sp.GetRequiredService<WebhookDatabase>().DataSource,
                sp.GetRequiredService<Orleans.Storage.IGrainStorageSerializer>(), sp.GetRequiredService<TimeProvider>());
        services.TryAddSingleton<Sessions.SessionPageInvalidation>();
        // Every write through the store tells the list page cache (Sessions.SessionPageCacheGrain) once committed.
        services.TryAddSingleton<Sessions.ISessionIndex>(sp =>
        {
            var inner = store(sp);
            return new Sessions.PageInvalidatingSessionStore((Orleans.Storage.IGrainStorage)inner, inner,
                sp.GetRequiredService<Sessions.SessionPageInvalidation>());
        });
        // Behind the same wrapper as the generic storage: "database away" reaches callers as a 503.
        services.AddKeyedSingleton<Orleans.Storage.IGrainStorage>(Sessions.SessionStore.Name, (sp, _) =>
            new Resilience.UnavailableAwareGrainStorage((Orleans.Storage.IGrainStorage)sp.GetRequiredService<Sessions.ISessionIndex>()));
    }

    /// <summary>
    /// The sessions' durable expiry trigger (a hosted service in every silo). Registered after UseOrleans
    /// (or in a test cluster's configurator) so it starts once the silo is active.
    /// </summary>
    public static IServiceCollection AddPatientConnectSessionScheduler(this IServiceCollection services)
    {
        services.AddHostedService<Sessions.SessionScheduler>();
        return services;
    }
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace PatientConnect.Grains.Webhooks;

public static class WebhookServiceCollectionExtensions
{
    /// <summary>
    /// What the grains need to record events: the Postgres outbox when ConnectionStrings:Postgres is set
    /// (every silo), otherwise an in-memory one (the in-process test cluster has no database).
    /// </summary>
    public static IServiceCollection AddPatientConnectEventOutbox(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>());
        services.AddOptions<Retention.RetentionOptions>().Bind(configuration.GetSection(Retention.RetentionOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Retention.RetentionOptions>, Retention.RetentionOptionsValidator>());
        var postgres = configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(postgres))
        {
            services.TryAddSingleton<InMemoryEventOutbox>();
            services.TryAddSingleton<IEventOutbox>(sp => sp.GetRequiredService<InMemoryEventOutbox>());
            services.TryAddSingleton<IPatientHistory>(sp => sp.GetRequiredService<InMemoryEventOutbox>());
            return services;
        }
        services.TryAddSingleton(_ => new WebhookDatabase(NpgsqlDataSource.Create(postgres)));
        services.TryAddSingleton<IEventOutbox, PostgresEventOutbox>();
        services.TryAddSingleton<IPatientHistory, PostgresPatientHistory>();
        // The right-to-delete job's table work (the in-process cluster has no tables to erase).
        services.TryAddSingleton<Erasure.ErasureStore>();
        return services;
    }

    /// <summary>The dispatcher (a hosted service in the silo) and its HttpClient.</summary>
    public static IServiceCollection AddPatientConnectWebhookDispatcher(this IServiceCollection services)
    {
        services.AddHttpClient(WebhookDispatcher.HttpClientName, client =>
            {
                client.DefaultRequestHeaders.UserAgent.ParseAdd("PatientConnect-Webhooks/1.0");
                // The dispatcher enforces its own per-attempt timeout.
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<Outbound.OutboundGuard>().Protect(new SocketsHttpHandler
            {
                // A redirect is an answer (not 2xx), never followed: the signed body goes to the registered URL only.
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            }));
        services.AddHostedService<WebhookDispatcher>();
        return services;
    }
}

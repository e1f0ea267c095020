using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using PatientConnect.Grains.Storage;

namespace PatientConnect.Grains.Sync;

public static class SyncServiceCollectionExtensions
{
    /// <summary>The record sync: options, the record store on its own Npgsql data source, and the FHIR HttpClient.</summary>
    public static IServiceCollection AddPatientConnectSync(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SyncOptions>().Bind(configuration.GetSection(SyncOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SyncOptions>, SyncOptionsValidator>());

        // Resolved on first use (the first sync or record read), so hosts without records need no database.
        services.TryAddSingleton<IRecordStore>(_ =>
        {
            var postgres = configuration.GetConnectionString("Postgres");
            if (string.IsNullOrWhiteSpace(postgres))
            {
                throw new InvalidOperationException("ConnectionStrings:Postgres is not set; the record store needs it.");
            }
            return new NpgsqlRecordStore(NpgsqlDataSource.Create(postgres));
        });
        services.TryAddSingleton<FhirClient>();
        services.TryAddTransient<SourceRateLimitHandler>();

        services.AddHttpClient(FhirClient.HttpClientName, client =>
            {
                client.DefaultRequestHeaders.UserAgent.ParseAdd("PatientConnect/1.0");
                // Polly's timeouts govern; HttpClient's own 100 s would cut a patient retry short.
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<Outbound.OutboundGuard>().Protect(new SocketsHttpHandler
            {
                // A redirect would carry the bearer token to wherever it points: never followed.
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.All,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                MaxConnectionsPerServer = 64,
            }))
            // Outermost: the source's request budget, one for the whole cluster (a grain per host), taken
            // once per request and before the retries and their timeouts, so a wait in line is never an
            // attempt that timed out.
            .AddHttpMessageHandler<SourceRateLimitHandler>()
            .AddResilienceHandler("fhir", (pipeline, context) =>
            {
                var o = context.ServiceProvider.GetRequiredService<IOptions<SyncOptions>>().Value;
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    // 408, 429, 5xx, HttpRequestException and attempt timeouts; Retry-After is honoured
                    // (429 and 503), otherwise exponential backoff with jitter.
                    MaxRetryAttempts = o.MaxRetries,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = TimeSpan.FromMilliseconds(200),
                    MaxDelay = o.MaxRetryDelay,
                    ShouldRetryAfterHeader = true,
                });
                pipeline.AddTimeout(o.AttemptTimeout);
            })
            .SelectPipelineByAuthority();

        return services;
    }
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace PatientConnect.Grains.Refresh;

public static class RefreshServiceCollectionExtensions
{
    /// <summary>Refresh options, the refresh schedule (Postgres, or in memory without a database) and each silo's scheduler.</summary>
    public static IServiceCollection AddPatientConnectRefresh(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RefreshOptions>().Bind(configuration.GetSection(RefreshOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RefreshOptions>, RefreshOptionsValidator>());
        var postgres = configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(postgres))
        {
            services.TryAddSingleton<InMemoryRefreshSchedule>();
            services.TryAddSingleton<IRefreshSchedule>(sp => sp.GetRequiredService<InMemoryRefreshSchedule>());
        }
        else
        {
            services.TryAddSingleton<IRefreshSchedule>(_ => new PostgresRefreshSchedule(postgres));
        }
        services.TryAddSingleton<RefreshServices>();
        services.TryAddSingleton<RefreshScheduler>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<RefreshScheduler>());
        return services;
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;

namespace PatientConnect.Silo.Logging;

public static class LoggingBuilderExtensions
{
    /// <summary>
    /// Puts every logger provider registered so far behind <see cref="RateLimitedLoggerProvider"/>.
    /// Call after the providers are added (the host adds console and friends when it is created).
    /// </summary>
    public static ILoggingBuilder AddRateLimit(this ILoggingBuilder logging)
    {
        var services = logging.Services;
        for (var i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType != typeof(ILoggerProvider) || descriptor.IsKeyedService) continue;
            services[i] = ServiceDescriptor.Singleton<ILoggerProvider>(sp =>
                new RateLimitedLoggerProvider(Inner(sp, descriptor), sp.GetService<TimeProvider>() ?? TimeProvider.System));
        }
        services.TryAddSingleton(TimeProvider.System);
        return logging;
    }

    private static ILoggerProvider Inner(IServiceProvider services, ServiceDescriptor descriptor) => (ILoggerProvider)(
        descriptor.ImplementationInstance
        ?? descriptor.ImplementationFactory?.Invoke(services)
        ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace PatientConnect.ServiceDefaults;

/// <summary>
/// What every process of the service gets the same way (the idea of eShop's ServiceDefaults):
/// OpenTelemetry traces and metrics (ASP.NET Core, HttpClient, Npgsql, Orleans, ours), OTLP export when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, a Prometheus scrape endpoint, JSON logs on request, and
/// health checks behind <c>/health/live</c> and <c>/health/ready</c>.
/// </summary>
public static class ServiceDefaultsExtensions
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder, string serviceName)
        where TBuilder : IHostApplicationBuilder
    {
        var section = builder.Configuration.GetSection(TelemetrySettings.SectionName);
        builder.Services.AddOptions<TelemetrySettings>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        var settings = section.Get<TelemetrySettings>() ?? new TelemetrySettings();

        builder.ConfigureLogs(settings);
        if (settings.Enabled) builder.ConfigureOpenTelemetry(serviceName);

        var health = builder.Services.AddHealthChecks()
            .AddCheck("process", () => HealthCheckResult.Healthy(), [LiveTag]);
        if (builder.Configuration.GetConnectionString("Postgres") is { Length: > 0 } postgres && IsValidConnectionString(postgres))
        {
            builder.Services.AddSingleton(_ => new PostgresHealthCheck(postgres));
            health.AddCheck<PostgresHealthCheck>("postgres", HealthStatus.Unhealthy, [ReadyTag], TimeSpan.FromSeconds(5));
        }
        return builder;
    }

    private static bool IsValidConnectionString(string value)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(value);
            return true;
        }
        catch (ArgumentException)
        {
            // The host's own settings check names the key; the health check is simply not added.
            return false;
        }
    }

    private static void ConfigureLogs(this IHostApplicationBuilder builder, TelemetrySettings settings)
    {
        // Trace and span ids in every log scope, so a log line leads to its trace.
        builder.Logging.Configure(o => o.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        if (string.Equals(settings.LogFormat, "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";
            });
        }
        if (settings.Enabled && HasOtlpEndpoint(builder.Configuration))
        {
            builder.Logging.AddOpenTelemetry(o =>
            {
                o.IncludeScopes = true;
                o.IncludeFormattedMessage = true;
            });
        }
    }

    private static void ConfigureOpenTelemetry(this IHostApplicationBuilder builder, string serviceName)
    {
        var name = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } configured ? configured : serviceName;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(name, serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddMeter(TelemetryNames.OrleansMeter, TelemetryNames.PatientConnect)
                .AddPrometheusExporter());
        if (!HasOtlpEndpoint(builder.Configuration))
        {
            // Spans are recorded only when there is somewhere to send them: creating an activity for
            // every request, grain call and query only to drop it cost a measurable share of a cheap GET.
            return;
        }
        telemetry
            .WithTracing(tracing => tracing
                .AddSource(TelemetryNames.PatientConnect)
                .AddSource(TelemetryNames.OrleansActivitySources)
                .AddAspNetCoreInstrumentation(o =>
                    // Probes and scrapes every few seconds would drown the traces that matter.
                    o.Filter = context => !IsOperationalPath(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddNpgsql())
            .UseOtlpExporter();
    }

    private static bool HasOtlpEndpoint(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    private static bool IsOperationalPath(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");

    /// <summary><c>/health/live</c>, <c>/health/ready</c> and the Prometheus endpoint.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(LiveTag),
            ResponseWriter = (context, report) => HealthResponse.WriteAsync(context, report, "live"),
        });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(ReadyTag),
            ResponseWriter = (context, report) => HealthResponse.WriteAsync(context, report, "ready"),
        });
        return app.MapMetricsEndpoint();
    }

    /// <summary>The Prometheus scrape endpoint alone (a host that serves its own health endpoints).</summary>
    public static WebApplication MapMetricsEndpoint(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<IOptions<TelemetrySettings>>().Value;
        if (settings.Enabled) app.MapPrometheusScrapingEndpoint(settings.MetricsPath);
        return app;
    }
}

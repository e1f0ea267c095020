using Microsoft.Extensions.Diagnostics.HealthChecks;
using PatientConnect.ServiceDefaults;
using PatientConnect.Silo.Health;
using PatientConnect.Telemetry;

namespace PatientConnect.Silo.Telemetry;

public static class SiloTelemetryExtensions
{
    /// <summary>
    /// The shared service defaults, plus what only a silo has: readiness as an active cluster member,
    /// ids of the session or connection in log scopes, and an HTTP port of its own for the probes.
    /// </summary>
    public static WebApplicationBuilder AddSiloTelemetryAndHealth(this WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults("patientconnect-silo");
        builder.Services.AddHealthChecks()
            .AddCheck<ClusterMemberHealthCheck>("cluster", HealthStatus.Unhealthy, [ServiceDefaultsExtensions.ReadyTag]);
        // Connections by status and the webhook backlog, the same on every process that exports them.
        builder.Services.AddHostedService<ClusterGaugesReporter>();

        // Without --urls / ASPNETCORE_URLS / ASPNETCORE_HTTP_PORTS Kestrel would take localhost:5000,
        // and a second silo on the machine would fail to start. A free loopback port instead; Kestrel
        // logs which ("Now listening on").
        var configuration = builder.Configuration;
        if (string.IsNullOrWhiteSpace(configuration["urls"]) && string.IsNullOrWhiteSpace(configuration["http_ports"])
            && string.IsNullOrWhiteSpace(configuration["https_ports"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        return builder;
    }
}

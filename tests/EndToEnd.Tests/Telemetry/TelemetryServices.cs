using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Telemetry;

/// <summary>
/// Two silos and the Api exporting traces over OTLP/HTTP to a collector of the test's own on
/// 127.0.0.1, with a short batch delay so spans arrive within a second of ending.
/// </summary>
public sealed class TelemetryServices() : ServiceProcesses(silos: 2)
{
    private OtlpReceiver? _otlp;

    public OtlpReceiver Otlp => _otlp ?? throw new InvalidOperationException("Not started.");

    protected override async Task BeforeStartAsync() => _otlp = await OtlpReceiver.StartAsync();

    protected override void AddServiceEnvironment(Dictionary<string, string> env)
    {
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = Otlp.Endpoint;
        env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        env["OTEL_BSP_SCHEDULE_DELAY"] = "200";
        env["OTEL_METRIC_EXPORT_INTERVAL"] = "5000";
        env["PatientConnect__Telemetry__LogFormat"] = "json";
        // "Executing endpoint" lines, so the Api has a line inside a tenant's request to look at.
        env["Logging__LogLevel__Microsoft.AspNetCore.Routing"] = "Information";
    }

    protected override async ValueTask AfterStopAsync()
    {
        if (_otlp is not null) await _otlp.DisposeAsync();
        _otlp = null;
    }
}

using System.ComponentModel.DataAnnotations;

namespace PatientConnect.ServiceDefaults;

/// <summary>
/// <c>PatientConnect:Telemetry:*</c>. The OTLP endpoint and protocol are the standard
/// <c>OTEL_EXPORTER_OTLP_*</c> variables, read by the exporter itself.
/// </summary>
public sealed class TelemetrySettings
{
    public const string SectionName = "PatientConnect:Telemetry";

    /// <summary>OpenTelemetry traces, metrics and /metrics on (default) or off (overhead measurements).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary><c>text</c> (default) or <c>json</c>: one JSON object per line with scopes and trace ids.</summary>
    [RegularExpression("^(text|json)$", ErrorMessage = "PatientConnect:Telemetry:LogFormat must be 'text' or 'json'.")]
    public string LogFormat { get; set; } = "text";

    /// <summary>Path of the Prometheus scrape endpoint.</summary>
    [RegularExpression("^/[A-Za-z0-9/_-]*$", ErrorMessage = "PatientConnect:Telemetry:MetricsPath must be a path starting with '/'.")]
    public string MetricsPath { get; set; } = "/metrics";
}

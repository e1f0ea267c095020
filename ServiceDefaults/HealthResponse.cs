using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PatientConnect.ServiceDefaults;

/// <summary>
/// The same body as the Api's own health endpoints: <c>{"status": "ready", "checks": {"postgres": "ok"}}</c>.
/// Health answers are public: which check failed, never why (no hosts, no connection strings).
/// </summary>
internal static class HealthResponse
{
    public static Task WriteAsync(HttpContext context, HealthReport report, string healthyStatus)
    {
        var checks = report.Entries.ToDictionary(
            e => e.Key,
            e => e.Value.Status == HealthStatus.Healthy ? "ok"
                : e.Value.Exception is OperationCanceledException or TimeoutException ? "timeout" : "failed");
        var body = new Dictionary<string, object>
        {
            ["status"] = report.Status == HealthStatus.Unhealthy ? "unavailable" : healthyStatus,
            ["checks"] = checks,
        };
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}

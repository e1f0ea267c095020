using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PatientConnect.Telemetry;

/// <summary>
/// Exports the cluster-wide gauges from the process it runs in (each silo and the Api host), so any
/// one scrape target answers the alerts on them. It asks <see cref="IClusterGaugesGrain"/> every
/// <see cref="Interval"/>; the gauges read the last answer, and report nothing once it is older than
/// <see cref="StaleAfter"/>, so an alert on missing data fires instead of a frozen value.
/// </summary>
public sealed class ClusterGaugesReporter : BackgroundService
{
    public const string MeterName = "PatientConnect";
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(2);

    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly ILogger<ClusterGaugesReporter> _logger;
    private ClusterGauges? _last;

    public ClusterGaugesReporter(IGrainFactory grains, TimeProvider time, IMeterFactory meters, ILogger<ClusterGaugesReporter> logger)
    {
        _grains = grains;
        _time = time;
        _logger = logger;
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("patientconnect.connections", ObserveConnections, "{connection}",
            "Connections in each status (tag status), cluster-wide.");
        meter.CreateObservableGauge("patientconnect.webhook.outbox.pending", () => Observe(g => g.WebhooksPending), "{event}",
            "Webhook events owed to an endpoint (not yet delivered or given up), cluster-wide.");
        meter.CreateObservableGauge("patientconnect.webhook.outbox.oldest_age", () => Observe(g => g.OldestPendingWebhook.TotalSeconds), "s",
            "Age of the oldest webhook event not yet delivered or given up (0 when none), cluster-wide.");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Volatile.Write(ref _last, await _grains.GetGrain<IClusterGaugesGrain>(0).Read());
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The cluster or the database is away (or this silo is not started yet): the gauges go
                // quiet after StaleAfter; the health endpoints and their own alerts tell why.
                _logger.LogDebug(e, "Cluster gauges not measured this round");
            }

            // Until the first answer, ask again soon: a process that just started has nothing to export.
            var wait = Volatile.Read(ref _last) is null ? TimeSpan.FromSeconds(1) : Interval;
            try
            {
                await Task.Delay(wait, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private ClusterGauges? Fresh() =>
        Volatile.Read(ref _last) is { } last && _time.GetUtcNow() - last.MeasuredAt <= StaleAfter ? last : null;

    private IEnumerable<Measurement<long>> ObserveConnections()
    {
        if (Fresh() is not { } gauges) yield break;
        foreach (var (status, count) in gauges.ConnectionsByStatus)
        {
            yield return new Measurement<long>(count, new KeyValuePair<string, object?>("status", status));
        }
    }

    private IEnumerable<Measurement<T>> Observe<T>(Func<ClusterGauges, T> value) where T : struct
    {
        if (Fresh() is { } gauges) yield return new Measurement<T>(value(gauges));
    }
}

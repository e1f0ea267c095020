using PatientConnect.Grains.Webhooks;
using PatientConnect.Telemetry;

namespace PatientConnect.Grains.Telemetry;

/// <summary>
/// Measures the cluster-wide gauges in Postgres. One worker per silo, and one query per
/// <see cref="MaxAge"/> however many processes ask: the reporters of the Api and of every silo share it.
/// </summary>
[StatelessWorker(1)]
public sealed class ClusterGaugesGrain(WebhookDatabase database, TimeProvider time) : Grain, IClusterGaugesGrain
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);

    // The statuses a connection can be in, so a status with no connection is a 0 rather than a gap.
    private static readonly string[] Statuses = ["active", "failed", "refresh_failed", "disconnected"];

    private ClusterGauges? _last;

    public async Task<ClusterGauges> Read()
    {
        var now = time.GetUtcNow();
        if (_last is { } last && now - last.MeasuredAt < MaxAge) return last;

        var byStatus = Statuses.ToDictionary(s => s, _ => 0L);
        await using var batch = database.DataSource.CreateBatch();
        batch.BatchCommands.Add(new("SELECT status, count(*) FROM pc_connection_status GROUP BY status"));
        // What the dispatcher still owes: events not yet fanned out to endpoints, and deliveries neither
        // delivered nor given up (the same rows retention never deletes).
        batch.BatchCommands.Add(new("""
            SELECT (SELECT count(*) FROM pc_webhook_outbox WHERE fanned_out_at IS NULL)
                 + (SELECT count(*) FROM pc_webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL),
                   coalesce(extract(epoch FROM now() - least(
                       (SELECT min(created_at) FROM pc_webhook_outbox WHERE fanned_out_at IS NULL),
                       (SELECT min(created_at) FROM pc_webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL))), 0)::float8
            """));
        await using var reader = await batch.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            byStatus[reader.GetString(0)] = reader.GetInt64(1);
        }
        await reader.NextResultAsync();
        await reader.ReadAsync();
        var pending = reader.GetInt64(0);
        var oldest = TimeSpan.FromSeconds(Math.Max(0, reader.GetDouble(1)));

        return (_last = new ClusterGauges(byStatus, pending, pending == 0 ? TimeSpan.Zero : oldest, now));
    }
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using PatientConnect.Grains.Idempotency;
using PatientConnect.Grains.Telemetry;
using PatientConnect.Grains.Webhooks;
using PatientConnect.Retention;

namespace PatientConnect.Grains.Retention;

/// <summary>
/// Deletes what no one will read again, in batches: webhook deliveries delivered or given up longer
/// ago than the policy with their attempts, then events with no delivery left, and idempotency records
/// past their replay window. A pending delivery, and the event it belongs to, is never touched.
/// </summary>
public sealed class RetentionGrain(
    WebhookDatabase database,
    IOptions<RetentionOptions> options,
    IOptions<ClusterOptions> cluster,
    Sessions.SessionPageInvalidation sessionPages,
    ILogger<RetentionGrain> logger) : Grain, IRetentionGrain, IRemindable
{
    public const string ReminderName = "retention";

    // The [PersistentState] name of PatientSessionGrain: the ADO.NET provider stores it as graintypestring.

    private RetentionOptions O => options.Value;

    public async Task Schedule() => await this.RegisterOrUpdateReminder(ReminderName, O.Interval, O.Interval);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName) return;
        await RunOnce();
    }

    public async Task<RetentionReport> RunOnce()
    {
        var webhookCutoff = DateTimeOffset.UtcNow - O.WebhookHistory;
        // Orleans writes ModifiedOn as UTC into a timestamp without time zone.
        var idempotencyCutoff = (DateTimeOffset.UtcNow - O.IdempotencyRecords).UtcDateTime;

        var attempts = await DeleteInBatchesAsync("""
            DELETE FROM pc_webhook_attempts WHERE id IN (
                SELECT a.id FROM pc_webhook_attempts a
                JOIN pc_webhook_deliveries d ON d.id = a.delivery_id
                WHERE d.created_at < @cutoff AND (d.delivered_at IS NOT NULL OR d.failed_at IS NOT NULL)
                LIMIT @batch)
            """, webhookCutoff);
        var deliveries = await DeleteInBatchesAsync("""
            DELETE FROM pc_webhook_deliveries WHERE id IN (
                SELECT id FROM pc_webhook_deliveries
                WHERE created_at < @cutoff AND (delivered_at IS NOT NULL OR failed_at IS NOT NULL)
                LIMIT @batch)
            """, webhookCutoff);
        // Fanned out and with no delivery left: every endpoint got it (or gave up) and that, too, is past the policy.
        var events = await DeleteInBatchesAsync("""
            DELETE FROM pc_webhook_outbox WHERE id IN (
                SELECT o.id FROM pc_webhook_outbox o
                WHERE o.created_at < @cutoff AND o.fanned_out_at IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM pc_webhook_deliveries d WHERE d.outbox_id = o.id)
                LIMIT @batch)
            """, webhookCutoff);
        // The ADO.NET provider stores the [PersistentState] name as the row's grain type string.
        var idempotency = await DeleteInBatchesAsync("""
            DELETE FROM orleansstorage WHERE ctid IN (
                SELECT ctid FROM orleansstorage
                WHERE serviceid = @service AND graintypestring = @stateName AND modifiedon < @cutoff
                LIMIT @batch)
            """, idempotencyCutoff, cluster.Value.ServiceId);

        // Ended sessions only (status 1 complete, 2 expired), from their own table (migration 0030), and
        // only once nothing is due on them (a follow-up or event still to hand on keeps the row).
        long sessions = 0;
        if (O.SessionHistory > TimeSpan.Zero)
        {
            sessions = await DeleteInBatchesAsync("""
                DELETE FROM pc_patient_sessions WHERE session_id IN (
                    SELECT session_id FROM pc_patient_sessions
                    WHERE status IN (1, 2) AND due_at IS NULL AND modified_at < @cutoff
                    LIMIT @batch)
                """, DateTimeOffset.UtcNow - O.SessionHistory);
            // Rows of any patient went: every cached list page goes too (one call per shard, once a run).
            if (sessions > 0) await sessionPages.AllAsync();
        }

        var report = new RetentionReport(attempts, deliveries, events, idempotency, sessions);
        PatientConnectMetrics.RetentionDeleted(report);
        logger.LogInformation(
            "Retention: deleted {Attempts} webhook attempts, {Deliveries} deliveries, {Events} events, {Idempotency} idempotency records, {Sessions} sessions",
            attempts, deliveries, events, idempotency, sessions);
        return report;
    }

    private async Task<long> DeleteInBatchesAsync(string sql, object cutoff, string? service = null)
    {
        long total = 0;
        while (true)
        {
            await using var command = database.DataSource.CreateCommand(sql);
            command.Parameters.AddWithValue("cutoff", cutoff);
            command.Parameters.AddWithValue("batch", O.BatchSize);
            if (service is not null)
            {
                command.Parameters.AddWithValue("service", service);
                command.Parameters.AddWithValue("stateName", IdempotencyGrain.StateName);
            }
            var deleted = await command.ExecuteNonQueryAsync();
            total += deleted;
            if (deleted < O.BatchSize) return total;
        }
    }
}

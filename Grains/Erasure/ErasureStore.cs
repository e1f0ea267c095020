using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;
using PatientConnect.Grains.Idempotency;
using PatientConnect.Grains.Security;
using PatientConnect.Grains.Webhooks;

namespace PatientConnect.Grains.Erasure;

/// <summary>
/// Every table row of one patient, deleted in one place (the right-to-delete job calls it after the
/// grains have revoked and cleared what they own). Each statement is idempotent, so a resumed job simply
/// runs it again. Keyed by the tenant, the patient id, and the patient's session and connection ids:
/// <list type="bullet">
/// <item>pc_records, pc_sync_checkpoints;</item>
/// <item>the history/webhook events (pc_webhook_outbox) of the patient, its sessions and connections,
/// with their deliveries and attempts;</item>
/// <item>stored idempotent answers that hold the patient (a session POST's answer names the patient;
/// the answer is encrypted, so each of the tenant's records is opened and checked);</item>
/// <item>the grains' rows in orleansstorage (patient, session, connection, sync) and any reminder left
/// in orleansreminderstable.</item>
/// </list>
/// </summary>
public sealed class ErasureStore(
    WebhookDatabase database,
    TokenProtector protector,
    IOptions<ClusterOptions> cluster,
    Sessions.SessionPageInvalidation sessionPages,
    ILogger<ErasureStore> logger)
{
    public sealed record Removed(long Records, long Events, long IdempotencyRecords);

    /// <summary>The rows of the data: records, events, idempotent answers.</summary>
    public async Task<Removed> DeleteDataAsync(string tenantId, string patientId, IReadOnlyCollection<string> sessionIds, IReadOnlyCollection<string> connectionIds)
    {
        var ids = sessionIds.Concat(connectionIds).ToArray();
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();

        long records;
        await using (var command = new NpgsqlCommand("""
            DELETE FROM pc_records WHERE tenant_id = @tenant AND (patient_id = @patient OR connection_id = ANY(@connections))
            """, connection, tx))
        {
            Add(command, tenantId, patientId, sessionIds, connectionIds);
            records = await command.ExecuteNonQueryAsync();
        }
        await using (var command = new NpgsqlCommand("DELETE FROM pc_sync_checkpoints WHERE connection_id = ANY(@connections)", connection, tx))
        {
            Add(command, tenantId, patientId, sessionIds, connectionIds);
            await command.ExecuteNonQueryAsync();
        }
        // The patient's session rows (Grains/Sessions: state, list and expiry schedule in one table), also
        // any session opened while the job ran.
        await using (var command = new NpgsqlCommand(
            "DELETE FROM pc_patient_sessions WHERE (tenant_id = @tenant AND patient_id = @patient) OR session_id = ANY(@sessions)", connection, tx))
        {
            Add(command, tenantId, patientId, sessionIds, connectionIds);
            await command.ExecuteNonQueryAsync();
        }
        // The refresh schedule (Grains/Refresh) and the connections-by-status projection behind the cluster gauge.
        await using (var command = new NpgsqlCommand("DELETE FROM pc_refresh_schedule WHERE connection_id = ANY(@connections)", connection, tx))
        {
            Add(command, tenantId, patientId, sessionIds, connectionIds);
            await command.ExecuteNonQueryAsync();
        }
        await using (var command = new NpgsqlCommand("DELETE FROM pc_connection_status WHERE connection_id = ANY(@connections)", connection, tx))
        {
            Add(command, tenantId, patientId, sessionIds, connectionIds);
            await command.ExecuteNonQueryAsync();
        }

        long events;
        // Data-modifying CTEs all run: attempts, then deliveries, then the events themselves.
        await using (var command = new NpgsqlCommand("""
            WITH erased_events AS (
                SELECT id FROM pc_webhook_outbox
                WHERE tenant_id = @tenant
                  AND (patient_id = @patient OR aggregate_id = ANY(@ids) OR connection_id = ANY(@connections) OR patient_session_id = ANY(@sessions))
            ), erased_deliveries AS (
                SELECT id FROM pc_webhook_deliveries
                WHERE tenant_id = @tenant AND (outbox_id IN (SELECT id FROM erased_events) OR aggregate_id = ANY(@ids))
            ), attempts AS (
                DELETE FROM pc_webhook_attempts WHERE delivery_id IN (SELECT id FROM erased_deliveries)
            ), deliveries AS (
                DELETE FROM pc_webhook_deliveries WHERE id IN (SELECT id FROM erased_deliveries)
            )
            DELETE FROM pc_webhook_outbox WHERE id IN (SELECT id FROM erased_events)
            """, connection, tx))
        {
            Add(command, tenantId, patientId, sessionIds, connectionIds);
            command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ids });
            events = await command.ExecuteNonQueryAsync();
        }

        var idempotencyKeys = await IdempotencyKeysHoldingAsync(connection, tx, tenantId, patientId, ids);
        long idempotency = 0;
        if (idempotencyKeys.Count > 0)
        {
            await using var command = new NpgsqlCommand("""
                DELETE FROM orleansstorage WHERE serviceid = @service AND graintypestring = @stateName AND grainidextensionstring = ANY(@keys)
                """, connection, tx);
            command.Parameters.AddWithValue("service", cluster.Value.ServiceId);
            command.Parameters.AddWithValue("stateName", IdempotencyGrain.StateName);
            command.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = idempotencyKeys.ToArray() });
            idempotency = await command.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
        // No cached list page may outlive the rows (a non-empty page would also spare the Api its exists
        // check): awaited, and a failure fails this attempt, which the job repeats.
        await sessionPages.PatientAsync(tenantId, patientId);
        return new Removed(records, events, idempotency);
    }

    /// <summary>
    /// The tenant's idempotency records whose answer (or its Location) names the patient or one of its
    /// ids. The answer is stored encrypted, bound to the record's key, so it is opened here to look.
    /// </summary>
    private async Task<List<string>> IdempotencyKeysHoldingAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, string tenantId, string patientId, IReadOnlyCollection<string> ids)
    {
        var keys = new List<string>();
        // The grain key is "{tenant}/{sha256 of the Idempotency-Key}"; the tenant id cannot contain '/'.
        await using var command = new NpgsqlCommand("""
            SELECT grainidextensionstring, convert_from(payloadbinary, 'UTF8') FROM orleansstorage
            WHERE serviceid = @service AND graintypestring = @stateName AND payloadbinary IS NOT NULL
              AND left(grainidextensionstring, length(@prefix)) = @prefix
            """, connection, tx);
        command.Parameters.AddWithValue("service", cluster.Value.ServiceId);
        command.Parameters.AddWithValue("stateName", IdempotencyGrain.StateName);
        command.Parameters.AddWithValue("prefix", tenantId + "/");
        var patientField = JsonSerializer.Serialize(patientId);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var key = reader.GetString(0);
            if (Holds(key, reader.GetString(1), patientField, ids)) keys.Add(key);
        }
        return keys;
    }

    private bool Holds(string key, string stateJson, string patientField, IReadOnlyCollection<string> ids)
    {
        try
        {
            using var state = JsonDocument.Parse(stateJson);
            var texts = new List<string>();
            foreach (var name in new[] { nameof(IdempotencyState.Location), nameof(IdempotencyState.BodyJson) })
            {
                if (state.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String) texts.Add(value.GetString()!);
            }
            if (state.RootElement.TryGetProperty(nameof(IdempotencyState.BodyProtected), out var body) && body.ValueKind == JsonValueKind.String)
            {
                texts.Add(protector.Unprotect(body.GetString()!, $"idempotency/{key}"));
            }
            // The answer's JSON names the patient as "patient_id": "<id>"; a session's or connection's id is unique text.
            return texts.Any(t => t.Contains("\"patient_id\":" + patientField, StringComparison.Ordinal)
                                  || ids.Any(id => t.Contains(id, StringComparison.Ordinal)));
        }
        catch (Exception e) when (e is JsonException or System.Security.Cryptography.CryptographicException or FormatException)
        {
            logger.LogWarning("Erasure: idempotency record could not be read ({Kind}); left alone", e.GetType().Name);
            return false;
        }
    }

    /// <summary>The grains' own rows (after they cleared their state): storage and reminders, by grain key.</summary>
    public async Task DeleteGrainRowsAsync(IReadOnlyCollection<string> grainKeys)
    {
        await using var batch = database.DataSource.CreateBatch();
        var storage = new NpgsqlBatchCommand("DELETE FROM orleansstorage WHERE serviceid = @service AND grainidextensionstring = ANY(@keys)");
        // A reminder's grain id is "{grain type}/{key}".
        var reminders = new NpgsqlBatchCommand("""
            DELETE FROM orleansreminderstable WHERE serviceid = @service AND substring(grainid from position('/' in grainid) + 1) = ANY(@keys)
            """);
        foreach (var command in new[] { storage, reminders })
        {
            command.Parameters.AddWithValue("service", cluster.Value.ServiceId);
            command.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = grainKeys.ToArray() });
            batch.BatchCommands.Add(command);
        }
        await batch.ExecuteNonQueryAsync();
    }

    private static void Add(NpgsqlCommand command, string tenantId, string patientId, IReadOnlyCollection<string> sessionIds, IReadOnlyCollection<string> connectionIds)
    {
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("patient", patientId);
        command.Parameters.Add(new NpgsqlParameter("sessions", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = sessionIds.ToArray() });
        command.Parameters.Add(new NpgsqlParameter("connections", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = connectionIds.ToArray() });
    }
}

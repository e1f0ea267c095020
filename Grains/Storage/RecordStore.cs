using System.Text;
using Npgsql;
using NpgsqlTypes;
using PatientConnect.Common;
using PatientConnect.Records;

using PatientConnect.Grains.Common;

namespace PatientConnect.Grains.Storage;

/// <summary>Whose records a batch holds: the key prefix of every row written with it.</summary>
public sealed record RecordOwner(string TenantId, string PatientId, string ConnectionId);

/// <summary>One FHIR resource as the source sent it (JSON text), with the facts it is keyed and filtered by.</summary>
public sealed record RecordRow(string ResourceType, string ResourceId, DateTimeOffset? LastUpdated, string Json);

/// <summary>A sync's progress as JSON, stored in pc_sync_checkpoints (migration 0010) beside the records it covers.</summary>
public sealed record SyncCheckpoint(string RunId, long Sequence, string Json);

/// <summary>pc_records (migration 0006) behind a small interface: batched idempotent writes and keyset reads.</summary>
public interface IRecordStore
{
    /// <summary>Inserts or overwrites the rows (keyed by owner + type + id) in one statement; returns rows written.</summary>
    Task<int> UpsertAsync(RecordOwner owner, string syncRun, IReadOnlyList<RecordRow> rows, CancellationToken cancellationToken = default);

    /// <summary>
    /// The rows (possibly none) and the sync's checkpoint in one transaction: either both are stored or
    /// neither. A checkpoint with a lower sequence than the stored one of the same run is ignored.
    /// </summary>
    Task StoreBatchAsync(RecordOwner owner, string syncRun, IReadOnlyList<RecordRow> rows, SyncCheckpoint checkpoint, CancellationToken cancellationToken = default);

    Task<SyncCheckpoint?> ReadCheckpointAsync(string connectionId, CancellationToken cancellationToken = default);

    /// <summary>Forgets the checkpoint of that run (a newer run's is left alone).</summary>
    Task DeleteCheckpointAsync(string connectionId, string runId, CancellationToken cancellationToken = default);

    Task<Page<string>> QueryAsync(RecordQuery query, CancellationToken cancellationToken = default);

    Task<string?> GetAsync(string tenantId, string patientId, string resourceType, string resourceId, CancellationToken cancellationToken = default);

    /// <summary>A FHIR search page (keyset order as <see cref="QueryAsync"/>), with the match count when asked.</summary>
    Task<FhirSearchPage> SearchAsync(FhirSearch search, CancellationToken cancellationToken = default);

    /// <summary>The resource types one patient has records of.</summary>
    Task<IReadOnlyList<string>> StoredTypesAsync(string tenantId, string patientId, CancellationToken cancellationToken = default);

    /// <summary>Stored records of one connection per resourceType.</summary>
    Task<IReadOnlyDictionary<string, long>> CountAsync(string tenantId, string connectionId, CancellationToken cancellationToken = default);

    /// <summary>Forgets every record of a connection (disconnect with deletion); returns rows deleted.</summary>
    Task<int> DeleteConnectionAsync(string tenantId, string connectionId, CancellationToken cancellationToken = default);
}

public sealed class NpgsqlRecordStore(NpgsqlDataSource dataSource) : IRecordStore
{
    // One round trip per batch: the rows travel as parallel arrays and are unnested server-side.
    // DISTINCT ON keeps one row per key, because ON CONFLICT DO UPDATE refuses to touch a row twice
    // in one statement (a page may carry the same resource twice, e.g. an _include repeated).
    private const string UpsertSql = """
        INSERT INTO pc_records AS r (tenant_id, connection_id, resource_type, resource_id, patient_id, last_updated, sync_run, resource)
        SELECT DISTINCT ON (t, i) @tenant, @connection, t, i, @patient, u, @run, j
        FROM unnest(@types, @ids, @updated, @json) AS x(t, i, u, j)
        ON CONFLICT (tenant_id, connection_id, resource_type, resource_id) DO UPDATE
        SET resource = excluded.resource,
            last_updated = excluded.last_updated,
            patient_id = excluded.patient_id,
            sync_run = excluded.sync_run,
            stored_at = now()
        """;

    private const string CheckpointSql = """
        INSERT INTO pc_sync_checkpoints AS c (connection_id, run_id, sequence, checkpoint)
        VALUES (@connection, @run, @sequence, @checkpoint)
        ON CONFLICT (connection_id) DO UPDATE
        SET run_id = excluded.run_id, sequence = excluded.sequence, checkpoint = excluded.checkpoint, written_at = now()
        WHERE c.run_id <> excluded.run_id OR c.sequence < excluded.sequence
        """;

    public async Task<int> UpsertAsync(RecordOwner owner, string syncRun, IReadOnlyList<RecordRow> rows, CancellationToken cancellationToken = default)
    {
        if (rows.Count == 0) return 0;
        await using var command = dataSource.CreateCommand(UpsertSql);
        AddUpsertParameters(command.Parameters, owner, syncRun, rows);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task StoreBatchAsync(RecordOwner owner, string syncRun, IReadOnlyList<RecordRow> rows, SyncCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        // Safe without waiting for the WAL flush: the run's next durable write (the grain's final
        // state, or any later synchronous commit) flushes the WAL past this transaction first, and a
        // Postgres crash before that loses records and checkpoint together, so the resumed run
        // simply fetches those pages again. The sync never reports a page done on this alone.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT set_config('synchronous_commit', 'off', true)"));
        if (rows.Count > 0)
        {
            var upsert = new NpgsqlBatchCommand(UpsertSql);
            AddUpsertParameters(upsert.Parameters, owner, syncRun, rows);
            batch.BatchCommands.Add(upsert);
        }
        var save = new NpgsqlBatchCommand(CheckpointSql);
        save.Parameters.Add(new NpgsqlParameter("connection", NpgsqlDbType.Text) { Value = owner.ConnectionId });
        save.Parameters.Add(new NpgsqlParameter("run", NpgsqlDbType.Text) { Value = checkpoint.RunId });
        save.Parameters.Add(new NpgsqlParameter("sequence", NpgsqlDbType.Bigint) { Value = checkpoint.Sequence });
        save.Parameters.Add(new NpgsqlParameter("checkpoint", NpgsqlDbType.Jsonb) { Value = checkpoint.Json });
        batch.BatchCommands.Add(save);
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<SyncCheckpoint?> ReadCheckpointAsync(string connectionId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT run_id, sequence, checkpoint::text FROM pc_sync_checkpoints WHERE connection_id = @connection");
        command.Parameters.Add(new NpgsqlParameter("connection", NpgsqlDbType.Text) { Value = connectionId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new SyncCheckpoint(reader.GetString(0), reader.GetInt64(1), reader.GetString(2)) : null;
    }

    public async Task DeleteCheckpointAsync(string connectionId, string runId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM pc_sync_checkpoints WHERE connection_id = @connection AND run_id = @run");
        command.Parameters.Add(new NpgsqlParameter("connection", NpgsqlDbType.Text) { Value = connectionId });
        command.Parameters.Add(new NpgsqlParameter("run", NpgsqlDbType.Text) { Value = runId });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddUpsertParameters(NpgsqlParameterCollection parameters, RecordOwner owner, string syncRun, IReadOnlyList<RecordRow> rows)
    {
        var types = new string[rows.Count];
        var ids = new string[rows.Count];
        var updated = new DateTime?[rows.Count];
        var json = new string[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            types[i] = rows[i].ResourceType;
            ids[i] = rows[i].ResourceId;
            updated[i] = rows[i].LastUpdated?.UtcDateTime;
            json[i] = rows[i].Json;
        }

        parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Text) { Value = owner.TenantId });
        parameters.Add(new NpgsqlParameter("connection", NpgsqlDbType.Text) { Value = owner.ConnectionId });
        parameters.Add(new NpgsqlParameter("patient", NpgsqlDbType.Text) { Value = owner.PatientId });
        parameters.Add(new NpgsqlParameter("run", NpgsqlDbType.Text) { Value = syncRun });
        parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = types });
        parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ids });
        parameters.Add(new NpgsqlParameter("updated", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = updated });
        parameters.Add(new NpgsqlParameter("json", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = json });
    }

    public async Task<Page<string>> QueryAsync(RecordQuery query, CancellationToken cancellationToken = default)
    {
        var limit = Cursors.Clamp(query.Limit);
        var after = query.Cursor is null ? null : RecordCursor.Decode(query.Cursor);

        // Keyset paging over the primary order of pc_records_patient_page: a page boundary is the
        // last (type, connection, id) seen, so inserts elsewhere never shift or repeat a page.
        var sql = new StringBuilder("""
            SELECT resource_type, connection_id, resource_id, resource::text
            FROM pc_records
            WHERE tenant_id = @tenant AND patient_id = @patient
            """);
        await using var command = dataSource.CreateCommand();
        command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Text) { Value = query.TenantId });
        command.Parameters.Add(new NpgsqlParameter("patient", NpgsqlDbType.Text) { Value = query.PatientId });
        if (query.ResourceType is not null)
        {
            sql.Append(" AND resource_type = @type");
            command.Parameters.Add(new NpgsqlParameter("type", NpgsqlDbType.Text) { Value = query.ResourceType });
        }
        if (query.ConnectionId is not null)
        {
            sql.Append(" AND connection_id = @connection");
            command.Parameters.Add(new NpgsqlParameter("connection", NpgsqlDbType.Text) { Value = query.ConnectionId });
        }
        if (query.Since is { } since)
        {
            sql.Append(" AND last_updated >= @since");
            command.Parameters.Add(new NpgsqlParameter("since", NpgsqlDbType.TimestampTz) { Value = since.UtcDateTime });
        }
        if (after is not null)
        {
            sql.Append(" AND (resource_type, connection_id, resource_id) > (@after_type, @after_connection, @after_id)");
            command.Parameters.Add(new NpgsqlParameter("after_type", NpgsqlDbType.Text) { Value = after.ResourceType });
            command.Parameters.Add(new NpgsqlParameter("after_connection", NpgsqlDbType.Text) { Value = after.ConnectionId });
            command.Parameters.Add(new NpgsqlParameter("after_id", NpgsqlDbType.Text) { Value = after.ResourceId });
        }
        sql.Append(" ORDER BY resource_type, connection_id, resource_id LIMIT @limit");
        command.Parameters.Add(new NpgsqlParameter("limit", NpgsqlDbType.Integer) { Value = limit + 1 });
        command.CommandText = sql.ToString();

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var (rows, next) = await Cursors.ReadPageAsync(reader, limit,
            r => (Key: KeyOf(r), Json: r.GetString(3)), row => row.Key.Encode(), cancellationToken);
        return new Page<string>(rows.Select(row => row.Json).ToList(), next);
    }

    public async Task<string?> GetAsync(string tenantId, string patientId, string resourceType, string resourceId, CancellationToken cancellationToken = default)
    {
        // The same resource id can come from two connections of the patient (rare; ids are per source):
        // the most recently updated copy wins.
        await using var command = dataSource.CreateCommand("""
            SELECT resource::text FROM pc_records
            WHERE tenant_id = @tenant AND patient_id = @patient AND resource_type = @type AND resource_id = @id
            ORDER BY last_updated DESC NULLS LAST, stored_at DESC
            LIMIT 1
            """);
        command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Text) { Value = tenantId });
        command.Parameters.Add(new NpgsqlParameter("patient", NpgsqlDbType.Text) { Value = patientId });
        command.Parameters.Add(new NpgsqlParameter("type", NpgsqlDbType.Text) { Value = resourceType });
        command.Parameters.Add(new NpgsqlParameter("id", NpgsqlDbType.Text) { Value = resourceId });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<FhirSearchPage> SearchAsync(FhirSearch search, CancellationToken cancellationToken = default)
    {
        var limit = Math.Clamp(search.Count, 0, FhirSearch.MaxCount);
        var after = search.Cursor is null ? null : RecordCursor.Decode(search.Cursor);
        var filter = new StringBuilder("tenant_id = @tenant AND patient_id = @patient");
        var parameters = new List<NpgsqlParameter>
        {
            new("tenant", NpgsqlDbType.Text) { Value = search.TenantId },
            new("patient", NpgsqlDbType.Text) { Value = search.PatientId },
        };
        if (search.ResourceType is not null)
        {
            filter.Append(" AND resource_type = @type");
            parameters.Add(new NpgsqlParameter("type", NpgsqlDbType.Text) { Value = search.ResourceType });
        }
        if (search.ConnectionId is not null)
        {
            filter.Append(" AND connection_id = @connection");
            parameters.Add(new NpgsqlParameter("connection", NpgsqlDbType.Text) { Value = search.ConnectionId });
        }
        if (search.ResourceIds is { } ids)
        {
            filter.Append(" AND resource_id = ANY(@ids)");
            parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ids.ToArray() });
        }
        if (search.LastUpdatedFrom is { } from)
        {
            filter.Append(" AND last_updated >= @from");
            parameters.Add(new NpgsqlParameter("from", NpgsqlDbType.TimestampTz) { Value = from.UtcDateTime });
        }
        if (search.LastUpdatedBefore is { } before)
        {
            filter.Append(" AND last_updated < @before");
            parameters.Add(new NpgsqlParameter("before", NpgsqlDbType.TimestampTz) { Value = before.UtcDateTime });
        }

        long? total = null;
        if (search.IncludeTotal)
        {
            // One patient's rows through pc_records_patient_page: cheap enough to answer on every page.
            await using var count = dataSource.CreateCommand($"SELECT count(*) FROM pc_records WHERE {filter}");
            foreach (var p in parameters) count.Parameters.Add(p.Clone());
            total = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }
        if (limit == 0) return new FhirSearchPage([], null, total);

        await using var command = dataSource.CreateCommand();
        foreach (var p in parameters) command.Parameters.Add(p.Clone());
        if (after is not null)
        {
            filter.Append(" AND (resource_type, connection_id, resource_id) > (@after_type, @after_connection, @after_id)");
            command.Parameters.Add(new NpgsqlParameter("after_type", NpgsqlDbType.Text) { Value = after.ResourceType });
            command.Parameters.Add(new NpgsqlParameter("after_connection", NpgsqlDbType.Text) { Value = after.ConnectionId });
            command.Parameters.Add(new NpgsqlParameter("after_id", NpgsqlDbType.Text) { Value = after.ResourceId });
        }
        command.CommandText = $"""
            SELECT resource_type, connection_id, resource_id, resource::text FROM pc_records
            WHERE {filter}
            ORDER BY resource_type, connection_id, resource_id LIMIT @limit
            """;
        command.Parameters.Add(new NpgsqlParameter("limit", NpgsqlDbType.Integer) { Value = limit + 1 });

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var (rows, next) = await Cursors.ReadPageAsync(reader, limit,
            r => (Key: KeyOf(r), Resource: new StoredResource(r.GetString(0), r.GetString(2), r.GetString(3))), row => row.Key.Encode(), cancellationToken);
        return new FhirSearchPage(rows.Select(row => row.Resource).ToList(), next, total);
    }

    public async Task<IReadOnlyList<string>> StoredTypesAsync(string tenantId, string patientId, CancellationToken cancellationToken = default)
    {
        // A loose index scan (one probe per type) instead of reading every row of the patient.
        await using var command = dataSource.CreateCommand("""
            WITH RECURSIVE types(t) AS (
                SELECT min(resource_type) FROM pc_records WHERE tenant_id = @tenant AND patient_id = @patient
                UNION ALL
                SELECT (SELECT min(resource_type) FROM pc_records
                        WHERE tenant_id = @tenant AND patient_id = @patient AND resource_type > types.t)
                FROM types WHERE types.t IS NOT NULL)
            SELECT t FROM types WHERE t IS NOT NULL
            """);
        command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Text) { Value = tenantId });
        command.Parameters.Add(new NpgsqlParameter("patient", NpgsqlDbType.Text) { Value = patientId });
        var types = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) types.Add(reader.GetString(0));
        return types;
    }

    public async Task<IReadOnlyDictionary<string, long>> CountAsync(string tenantId, string connectionId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT resource_type, count(*) FROM pc_records
            WHERE tenant_id = @tenant AND connection_id = @connection
            GROUP BY resource_type
            """);
        command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Text) { Value = tenantId });
        command.Parameters.Add(new NpgsqlParameter("connection", NpgsqlDbType.Text) { Value = connectionId });
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }
        return counts;
    }

    /// <summary>The list-order key of a row whose first columns are resource_type, connection_id, resource_id.</summary>
    private static RecordCursor KeyOf(System.Data.Common.DbDataReader reader) => new(reader.GetString(0), reader.GetString(1), reader.GetString(2));

    public async Task<int> DeleteConnectionAsync(string tenantId, string connectionId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM pc_records WHERE tenant_id = @tenant AND connection_id = @connection");
        command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Text) { Value = tenantId });
        command.Parameters.Add(new NpgsqlParameter("connection", NpgsqlDbType.Text) { Value = connectionId });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

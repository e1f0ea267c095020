using System.Text;
using Npgsql;
using NpgsqlTypes;
using PatientConnect.Common;
using PatientConnect.Records;

namespace PatientConnect.Grains.Storage;

/// <summary>Whose records a batch holds: the key prefix of every row written with it.</summary>
public sealed record RecordOwner(string TenantId, string PatientId, string ConnectionId);

/// <summary>One FHIR resource as the source sent it (JSON text), with the facts it is keyed and filtered by.</summary>
public sealed record RecordRow(string ResourceType, string ResourceId, DateTimeOffset? LastUpdated, string Json);

/// <summary>pc_records (migration 0006) behind a small interface: batched idempotent writes and keyset reads.</summary>
public interface IRecordStore
{
    /// <summary>Inserts or overwrites the rows (keyed by owner + type + id) in one statement; returns rows written.</summary>
    Task<int> UpsertAsync(RecordOwner owner, string syncRun, IReadOnlyList<RecordRow> rows, CancellationToken cancellationToken = default);

    Task<Page<string>> QueryAsync(RecordQuery query, CancellationToken cancellationToken = default);

    Task<string?> GetAsync(string tenantId, string patientId, string resourceType, string resourceId, CancellationToken cancellationToken = default);

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

    public async Task<int> UpsertAsync(RecordOwner owner, string syncRun, IReadOnlyList<RecordRow> rows, CancellationToken cancellationToken = default)
    {
        if (rows.Count == 0) return 0;
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

        await using var command = dataSource.CreateCommand(UpsertSql);
        command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Text) { Value = owner.TenantId });
        command.Parameters.Add(new NpgsqlParameter("connection", NpgsqlDbType.Text) { Value = owner.ConnectionId });
        command.Parameters.Add(new NpgsqlParameter("patient", NpgsqlDbType.Text) { Value = owner.PatientId });
        command.Parameters.Add(new NpgsqlParameter("run", NpgsqlDbType.Text) { Value = syncRun });
        command.Parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = types });
        command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ids });
        command.Parameters.Add(new NpgsqlParameter("updated", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = updated });
        command.Parameters.Add(new NpgsqlParameter("json", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = json });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<Page<string>> QueryAsync(RecordQuery query, CancellationToken cancellationToken = default)
    {
        var limit = Math.Clamp(query.Limit <= 0 ? RecordCursor.DefaultLimit : query.Limit, 1, RecordCursor.MaxLimit);
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

        var data = new List<string>(limit);
        RecordCursor? last = null;
        var more = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (data.Count == limit)
            {
                more = true;
                break;
            }
            last = new RecordCursor(reader.GetString(0), reader.GetString(1), reader.GetString(2));
            data.Add(reader.GetString(3));
        }
        return new Page<string>(data, more && last is not null ? last.Encode() : null);
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

    public async Task<int> DeleteConnectionAsync(string tenantId, string connectionId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM pc_records WHERE tenant_id = @tenant AND connection_id = @connection");
        command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Text) { Value = tenantId });
        command.Parameters.Add(new NpgsqlParameter("connection", NpgsqlDbType.Text) { Value = connectionId });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

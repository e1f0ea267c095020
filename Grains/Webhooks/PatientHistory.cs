using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using PatientConnect.Common;
using PatientConnect.Patients;

using PatientConnect.Grains.Common;

namespace PatientConnect.Grains.Webhooks;

/// <summary>A patient's history as stored in the event outbox (see migration 0020), newest first.</summary>
public interface IPatientHistory
{
    Task<Page<PatientEvent>> ReadAsync(PatientEventQuery query, CancellationToken cancellationToken = default);
}

public sealed class PostgresPatientHistory(WebhookDatabase database) : IPatientHistory
{
    public async Task<Page<PatientEvent>> ReadAsync(PatientEventQuery query, CancellationToken cancellationToken = default)
    {
        var limit = Cursors.Clamp(query.Limit);
        var sql = new StringBuilder("""
            SELECT id, event_id, event_type, created_at, patient_session_id, connection_id, status_before, status_after,
                   failure_code, failure_description, deliver, (payload -> 'data')::text
            FROM pc_webhook_outbox
            WHERE tenant_id = @tenant AND patient_id = @patient
            """);
        await using var command = database.DataSource.CreateCommand();
        command.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Text) { Value = query.TenantId });
        command.Parameters.Add(new NpgsqlParameter("patient", NpgsqlDbType.Text) { Value = query.PatientId });
        if (query.Types is { Count: > 0 } types)
        {
            sql.Append(" AND event_type = ANY(@types)");
            command.Parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = types.ToArray() });
        }
        if (query.Since is { } since)
        {
            sql.Append(" AND created_at >= @since");
            command.Parameters.Add(new NpgsqlParameter("since", NpgsqlDbType.TimestampTz) { Value = since.UtcDateTime });
        }
        if (query.Cursor is { } cursor)
        {
            sql.Append(" AND id < @after");
            command.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Bigint) { Value = Cursors.DecodeId(cursor) });
        }
        sql.Append(" ORDER BY id DESC LIMIT @limit");
        command.Parameters.Add(new NpgsqlParameter("limit", NpgsqlDbType.Integer) { Value = limit + 1 });
        command.CommandText = sql.ToString();

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var (rows, next) = await Cursors.ReadPageAsync(reader, limit, r => (Id: r.GetInt64(0), Event: new PatientEvent(
                r.GetString(1),
                r.GetString(2),
                r.GetFieldValue<DateTimeOffset>(3),
                r.IsDBNull(4) ? null : r.GetString(4),
                r.IsDBNull(5) ? null : r.GetString(5),
                r.IsDBNull(6) ? null : r.GetString(6),
                r.IsDBNull(7) ? null : r.GetString(7),
                r.IsDBNull(8) ? null : r.GetString(8),
                r.IsDBNull(9) ? null : r.GetString(9),
                r.GetBoolean(10),
                r.IsDBNull(11) ? "null" : r.GetString(11))),
            row => Cursors.Encode(row.Id), cancellationToken);
        return new Page<PatientEvent>(rows.Select(row => row.Event).ToList(), next);
    }
}

using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using PatientConnect.Common;
using PatientConnect.Patients;

namespace PatientConnect.Grains.Webhooks;

/// <summary>A patient's history as stored in the event outbox (see migration 0020), newest first.</summary>
public interface IPatientHistory
{
    Task<Page<PatientEvent>> ReadAsync(PatientEventQuery query, CancellationToken cancellationToken = default);
}

/// <summary>The history's opaque cursor: the outbox id of the last entry of the previous page.</summary>
public static class HistoryCursor
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;

    public static string Encode(long id) => Base64Url.EncodeToString(Encoding.ASCII.GetBytes("h" + id.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Throws <see cref="ArgumentException"/> naming "cursor" for anything this list did not issue.</summary>
    public static long Decode(string cursor)
    {
        try
        {
            var text = cursor.Length <= 64 ? Encoding.ASCII.GetString(Base64Url.DecodeFromChars(cursor)) : "";
            if (text.StartsWith('h') && long.TryParse(text.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0) return id;
        }
        catch (FormatException)
        {
        }
        throw new ArgumentException("The cursor is not one this list issued.", "cursor");
    }

    public static int Limit(int requested) => Math.Clamp(requested <= 0 ? DefaultLimit : requested, 1, MaxLimit);
}

public sealed class PostgresPatientHistory(WebhookDatabase database) : IPatientHistory
{
    public async Task<Page<PatientEvent>> ReadAsync(PatientEventQuery query, CancellationToken cancellationToken = default)
    {
        var limit = HistoryCursor.Limit(query.Limit);
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
            command.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Bigint) { Value = HistoryCursor.Decode(cursor) });
        }
        sql.Append(" ORDER BY id DESC LIMIT @limit");
        command.Parameters.Add(new NpgsqlParameter("limit", NpgsqlDbType.Integer) { Value = limit + 1 });
        command.CommandText = sql.ToString();

        var data = new List<PatientEvent>(limit);
        long lastId = 0;
        var more = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (data.Count == limit)
            {
                more = true;
                break;
            }
            lastId = reader.GetInt64(0);
            data.Add(new PatientEvent(
                reader.GetString(1),
                reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetString(8),
                reader.IsDBNull(9) ? null : reader.GetString(9),
                reader.GetBoolean(10),
                reader.IsDBNull(11) ? "null" : reader.GetString(11)));
        }
        return new Page<PatientEvent>(data, more ? HistoryCursor.Encode(lastId) : null);
    }
}

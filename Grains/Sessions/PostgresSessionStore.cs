using Npgsql;
using NpgsqlTypes;
using Orleans.Storage;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// The session grains' storage (pc_patient_sessions, migration 0030): one row per session, written once
/// per change with the columns its patient's list and the expiry schedule read, so a create is one
/// durable write and neither needs a second one. Versioned like the generic grain storage: a write from
/// a stale activation fails with <see cref="InconsistentStateException"/>.
/// </summary>
public sealed class PostgresSessionStore(NpgsqlDataSource dataSource, IGrainStorageSerializer serializer, TimeProvider time)
    : IGrainStorage, ISessionIndex
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var command = dataSource.CreateCommand("SELECT version, state FROM pc_patient_sessions WHERE session_id = @id");
        command.Parameters.AddWithValue("id", SessionId(grainId));
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        grainState.ETag = reader.GetInt32(0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.State = serializer.Deserialize<T>(new BinaryData(reader.GetFieldValue<byte[]>(1)));
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var s = grainState.State as PatientSessionState
            ?? throw new NotSupportedException($"The session store holds {nameof(PatientSessionState)} only, not {typeof(T).Name}.");
        if (!s.Exists) throw new InvalidOperationException("A session is stored once it has a tenant.");
        var id = SessionId(grainId);
        var expected = ParseETag(grainState.ETag);
        await using var command = dataSource.CreateCommand(expected is null
            ? """
              INSERT INTO pc_patient_sessions (session_id, tenant_id, patient_id, created_at, expires_at, status, due_at, version, state, list_json, modified_at)
              VALUES (@id, @tenant, @patient, @created, @expires, @status, @due, 1, @state, @listJson, now())
              ON CONFLICT (session_id) DO NOTHING
              RETURNING version
              """
            : """
              UPDATE pc_patient_sessions
              SET tenant_id = @tenant, patient_id = @patient, created_at = @created, expires_at = @expires, status = @status,
                  due_at = @due, version = version + 1, state = @state, list_json = @listJson, modified_at = now()
              WHERE session_id = @id AND version = @expected
              RETURNING version
              """);
        AddRow(command.Parameters, id, s);
        if (expected is { } version) command.Parameters.AddWithValue("expected", version);
        var written = await command.ExecuteScalarAsync();
        if (written is not int newVersion)
        {
            throw new InconsistentStateException($"Session {id} was written by another activation.", "unknown", grainState.ETag ?? "none");
        }
        grainState.ETag = newVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task<PatientSessionState> InsertAsync(string sessionId, PatientSessionState state)
    {
        await using (var insert = dataSource.CreateCommand("""
            INSERT INTO pc_patient_sessions (session_id, tenant_id, patient_id, created_at, expires_at, status, due_at, version, state, list_json, modified_at)
            VALUES (@id, @tenant, @patient, @created, @expires, @status, @due, 1, @state, @listJson, now())
            ON CONFLICT (session_id) DO NOTHING
            """))
        {
            AddRow(insert.Parameters, sessionId, state);
            if (await insert.ExecuteNonQueryAsync() == 1) return state;
        }
        await using var read = dataSource.CreateCommand("SELECT state FROM pc_patient_sessions WHERE session_id = @id");
        read.Parameters.AddWithValue("id", sessionId);
        var stored = await read.ExecuteScalarAsync() as byte[]
            ?? throw new InvalidOperationException($"Session {sessionId} was neither inserted nor found.");
        return serializer.Deserialize<PatientSessionState>(new BinaryData(stored)) ?? new PatientSessionState();
    }

    private void AddRow(NpgsqlParameterCollection parameters, string id, PatientSessionState s)
    {
        parameters.AddWithValue("id", id);
        parameters.AddWithValue("tenant", s.TenantId!);
        parameters.AddWithValue("patient", s.PatientId);
        parameters.AddWithValue("created", s.CreatedAt);
        parameters.AddWithValue("expires", s.ExpiresAt);
        parameters.AddWithValue("status", (short)s.Status);
        parameters.Add(new NpgsqlParameter("due", NpgsqlDbType.TimestampTz) { Value = (object?)SessionSchedule.DueAt(s, time.GetUtcNow()) ?? DBNull.Value });
        parameters.AddWithValue("state", serializer.Serialize(s).ToArray());
        parameters.AddWithValue("listJson", SessionListJson.Tail(id, s));
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM pc_patient_sessions WHERE session_id = @id");
        command.Parameters.AddWithValue("id", SessionId(grainId));
        await command.ExecuteNonQueryAsync();
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    public async Task<IReadOnlyList<StoredSession>> ListAsync(SessionListFilter filter)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = await ListCommandAsync(connection, "session_id, created_at, state", filter);
        var rows = new List<StoredSession>(filter.Take);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var id = reader.GetString(0);
            var state = serializer.Deserialize<PatientSessionState>(new BinaryData(reader.GetFieldValue<byte[]>(2))) ?? new PatientSessionState();
            rows.Add(new StoredSession(id, new SessionKey(reader.GetFieldValue<DateTimeOffset>(1), id), state));
        }
        return rows;
    }

    public async Task<IReadOnlyList<ListedSession>> ListJsonAsync(SessionListFilter filter)
    {
        // The state only for a row written before list_json existed (migration 0080), which has no tail yet.
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = await ListCommandAsync(connection,
            "session_id, created_at, status, expires_at, list_json, CASE WHEN list_json IS NULL THEN state END", filter);
        var rows = new List<ListedSession>(filter.Take);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var id = reader.GetString(0);
            var tail = reader.IsDBNull(4)
                ? SessionListJson.Tail(id, serializer.Deserialize<PatientSessionState>(new BinaryData(reader.GetFieldValue<byte[]>(5))) ?? new PatientSessionState())
                : reader.GetFieldValue<byte[]>(4);
            rows.Add(new ListedSession(id, new SessionKey(reader.GetFieldValue<DateTimeOffset>(1), id),
                (SessionStatus)reader.GetInt16(2), reader.GetFieldValue<DateTimeOffset>(3), tail));
        }
        return rows;
    }

    /// <remarks>
    /// Prepared: a list is read far more often than written, and parsing and planning the statement every
    /// time cost Postgres about a third of its CPU per list (~40 of ~140 µs, measured). Npgsql keeps the
    /// statement prepared on each pooled connection, so after the first time on a connection this is a
    /// look-up, not a round trip; there are at most eight spellings (status filter × cursor).
    /// </remarks>
    private static async Task<NpgsqlCommand> ListCommandAsync(NpgsqlConnection connection, string columns, SessionListFilter filter)
    {
        // The status as the list shows it: an open session past expires_at is expired even before the
        // scheduler recorded it (status is computed from the clock).
        var status = filter.Status switch
        {
            null => "",
            SessionStatus.Open => "AND status = 0 AND expires_at > @now",
            SessionStatus.Complete => "AND status = 1",
            _ => "AND (status = 2 OR (status = 0 AND expires_at <= @now))",
        };
        var after = filter.After is null ? "" : "AND (created_at, session_id) < (@afterCreated, @afterId)";
        var command = new NpgsqlCommand($"""
            SELECT {columns} FROM pc_patient_sessions
            WHERE tenant_id = @tenant AND patient_id = @patient {status} {after}
            ORDER BY created_at DESC, session_id DESC
            LIMIT @take
            """, connection);
        command.Parameters.AddWithValue("tenant", filter.TenantId);
        command.Parameters.AddWithValue("patient", filter.PatientId);
        if (filter.Status is SessionStatus.Open or SessionStatus.Expired) command.Parameters.AddWithValue("now", filter.Now);
        command.Parameters.AddWithValue("take", filter.Take);
        if (filter.After is { } key)
        {
            command.Parameters.AddWithValue("afterCreated", key.CreatedAt);
            command.Parameters.AddWithValue("afterId", key.Id);
        }
        await command.PrepareAsync();
        return command;
    }

    public async Task<IReadOnlyList<string>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset retryAt, int limit)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE pc_patient_sessions SET due_at = @retry
            WHERE session_id IN (
                SELECT session_id FROM pc_patient_sessions
                WHERE due_at <= @now
                ORDER BY due_at
                LIMIT @limit
                FOR UPDATE SKIP LOCKED)
            RETURNING session_id
            """);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("retry", retryAt);
        command.Parameters.AddWithValue("limit", limit);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
        return ids;
    }

    private static string SessionId(GrainId grainId) => grainId.Key.ToString()!;

    private static int? ParseETag(string? etag) =>
        etag is null ? null : int.Parse(etag, System.Globalization.CultureInfo.InvariantCulture);
}

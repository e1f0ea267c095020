using Npgsql;
using NpgsqlTypes;
using PatientConnect.Grains.Common;

namespace PatientConnect.Grains.Refresh;

/// <summary>
/// pc_refresh_schedule (migrations 0040, 0090). Due times are written in groups: the connections of one silo
/// that change at the same moment share one upsert statement and one commit, which is what lets a
/// silo register thousands of connections a second (<see cref="GroupCommit{T}"/>); each caller still waits
/// until its own row is durable.
/// </summary>
public sealed class PostgresRefreshSchedule : IRefreshSchedule, IAsyncDisposable
{
    private const int MaxGroup = 1000;

    private readonly NpgsqlDataSource _database;
    private readonly GroupCommit<PendingDue> _upserts;

    public PostgresRefreshSchedule(string connectionString)
    {
        _database = NpgsqlDataSource.Create(connectionString);
        _upserts = new GroupCommit<PendingDue>(UpsertAsync, MaxGroup);
    }

    public Task SetAsync(string connectionId, DateTimeOffset dueAt, DateTimeOffset earlyAt) =>
        _upserts.WriteAsync(new PendingDue(connectionId, dueAt.UtcDateTime, (earlyAt < dueAt ? earlyAt : dueAt).UtcDateTime));

    public async Task RemoveAsync(string connectionId)
    {
        await using var command = _database.CreateCommand("DELETE FROM pc_refresh_schedule WHERE connection_id = @id");
        command.Parameters.AddWithValue("id", connectionId);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<IReadOnlyList<DueRefresh>> ClaimAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken)
    {
        var claimed = await ClaimWhereAsync(Overdue, now, leaseUntil, limit, cancellationToken);
        // Free slots left: start refreshes whose early start has passed, so coming waves are worked off ahead.
        if (claimed.Count < limit)
        {
            claimed.AddRange(await ClaimWhereAsync(MayStartEarly, now, leaseUntil, limit - claimed.Count, cancellationToken));
        }
        return claimed;
    }

    // Each by its own index (due_at, early_at), so a look finds its rows without scanning the whole plan.
    private const string Overdue = "due_at <= @now ORDER BY due_at";
    private const string MayStartEarly = "early_at <= @now AND due_at > @now ORDER BY early_at";

    private async Task<List<DueRefresh>> ClaimWhereAsync(string where, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken)
    {
        // SKIP LOCKED: silos claiming at the same moment take different rows instead of waiting on each other.
        await using var command = _database.CreateCommand($"""
            WITH due AS (
                SELECT connection_id, due_at FROM pc_refresh_schedule
                WHERE {where} LIMIT @limit
                FOR UPDATE SKIP LOCKED)
            UPDATE pc_refresh_schedule s SET due_at = @lease, early_at = @lease
            FROM due WHERE s.connection_id = due.connection_id
            RETURNING s.connection_id, due.due_at
            """);
        command.Parameters.AddWithValue("now", now.UtcDateTime);
        command.Parameters.AddWithValue("lease", leaseUntil.UtcDateTime);
        command.Parameters.AddWithValue("limit", limit);
        var claimed = new List<DueRefresh>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new DueRefresh(reader.GetString(0), new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero)));
        }
        return claimed;
    }

    private async Task UpsertAsync(IReadOnlyList<PendingDue> group)
    {
        // One row per connection per statement (ON CONFLICT cannot touch a row twice): the latest request wins,
        // as it would have had the writes gone one by one in the order they were asked.
        var latest = new Dictionary<string, (DateTime Due, DateTime Early)>(group.Count, StringComparer.Ordinal);
        foreach (var pending in group) latest[pending.ConnectionId] = (pending.DueAt, pending.EarlyAt);
        await using var command = _database.CreateCommand("""
            INSERT INTO pc_refresh_schedule (connection_id, due_at, early_at)
            SELECT * FROM unnest(@ids, @dues, @earlies)
            ON CONFLICT (connection_id) DO UPDATE SET due_at = excluded.due_at, early_at = excluded.early_at
            """);
        command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = latest.Keys.ToArray() });
        command.Parameters.Add(new NpgsqlParameter("dues", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = latest.Values.Select(v => v.Due).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("earlies", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = latest.Values.Select(v => v.Early).ToArray() });
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _upserts.DisposeAsync();
        await _database.DisposeAsync();
    }

    private sealed record PendingDue(string ConnectionId, DateTime DueAt, DateTime EarlyAt);
}

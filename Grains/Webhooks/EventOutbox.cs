using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;
using PatientConnect.Common;
using PatientConnect.Grains.Common;
using PatientConnect.Patients;

namespace PatientConnect.Grains.Webhooks;

/// <summary>The durable outbox of webhook events (pc_webhook_outbox). Appends are idempotent by event id.</summary>
public interface IEventOutbox
{
    /// <summary>Stores the events in order; an event id already stored is skipped, so a repeat is harmless.</summary>
    Task AppendAsync(IReadOnlyList<PendingEvent> events, CancellationToken cancellationToken = default);
}

/// <summary>
/// pc_webhook_outbox. Appends are written in groups (<see cref="GroupCommit{T}"/>): the batches of every
/// grain of the silo that flush at the same moment share one insert statement and one commit, which is
/// what lets a silo record thousands of events a second; each caller still waits until its own events are
/// durable, and a failed group is retried batch by batch so one bad event fails only its own caller.
/// </summary>
public sealed class PostgresEventOutbox : IEventOutbox, IAsyncDisposable
{
    // Rows per statement: large enough to carry a busy silo's flushes, small enough for one quick commit.
    private const int MaxGroupEvents = 1000;

    private readonly WebhookDatabase _database;
    // One item per caller: its batch stays contiguous in the group's statement (delivery order per aggregate),
    // and a failed group is retried batch by batch.
    private readonly GroupCommit<PendingEvent[]> _appends;

    public PostgresEventOutbox(WebhookDatabase database)
    {
        _database = database;
        _appends = new GroupCommit<PendingEvent[]>(
            batches => InsertAsync(batches.Count == 1 ? batches[0] : batches.SelectMany(b => b).ToArray()),
            MaxGroupEvents, batch => batch.Length);
    }

    public Task AppendAsync(IReadOnlyList<PendingEvent> events, CancellationToken cancellationToken = default)
    {
        if (events.Count == 0) return Task.CompletedTask;
        // A copy: the caller's list (a grain's pending events) may change once it stops waiting. Cancelling
        // stops the wait, not the write: an append that lands anyway is harmless (idempotent by event id).
        return _appends.WriteAsync(events.ToArray(), cancellationToken);
    }

    private async Task InsertAsync(IReadOnlyList<PendingEvent> events)
    {
        // One statement for the group: the rows get ascending ids in list order (unnest keeps it), and each
        // caller's batch is contiguous in it, which is the delivery order per aggregate. An event id that is
        // already stored, or repeated in the group (a grain retrying a flush), is skipped.
        await using var command = _database.DataSource.CreateCommand("""
            INSERT INTO pc_webhook_outbox (tenant_id, event_id, event_type, aggregate_id, payload, created_at,
                patient_id, patient_session_id, connection_id, status_before, status_after, failure_code, failure_description,
                deliver, fanned_out_at)
            SELECT t, e, ty, a, p::jsonb, c, pa, se, co, sb, sa, fc, fd, d, CASE WHEN d THEN NULL ELSE now() END
            FROM unnest(@tenants, @events, @types, @aggregates, @payloads, @created,
                        @patients, @sessions, @connections, @before, @after, @codes, @descriptions, @deliver)
                 WITH ORDINALITY AS x(t, e, ty, a, p, c, pa, se, co, sb, sa, fc, fd, d, n)
            ORDER BY n
            ON CONFLICT (event_id) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter("tenants", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.TenantId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("events", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.EventId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.Type).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("aggregates", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.AggregateId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("payloads", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.Payload).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("created", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = events.Select(e => e.CreatedAt.UtcDateTime).ToArray() });
        command.Parameters.Add(Texts("patients", events, e => e.PatientId));
        command.Parameters.Add(Texts("sessions", events, e => e.SessionId));
        command.Parameters.Add(Texts("connections", events, e => e.ConnectionId));
        command.Parameters.Add(Texts("before", events, e => e.StatusBefore));
        command.Parameters.Add(Texts("after", events, e => e.StatusAfter));
        command.Parameters.Add(Texts("codes", events, e => e.FailureCode));
        command.Parameters.Add(Texts("descriptions", events, e => e.FailureDescription));
        command.Parameters.Add(new NpgsqlParameter("deliver", NpgsqlDbType.Array | NpgsqlDbType.Boolean) { Value = events.Select(e => e.Deliver).ToArray() });
        await command.ExecuteNonQueryAsync();
    }

    private static NpgsqlParameter Texts(string name, IReadOnlyList<PendingEvent> events, Func<PendingEvent, string?> value) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(value).ToArray() };

    public ValueTask DisposeAsync() => _appends.DisposeAsync();
}

/// <summary>For an in-process test cluster without Postgres: keeps the events in memory, in order, and reads the history from them.</summary>
public sealed class InMemoryEventOutbox : IEventOutbox, IPatientHistory
{
    private readonly ConcurrentDictionary<string, PendingEvent> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<PendingEvent> _all = new();

    public IReadOnlyList<PendingEvent> Events => _all.ToArray();

    public Task AppendAsync(IReadOnlyList<PendingEvent> events, CancellationToken cancellationToken = default)
    {
        foreach (var e in events)
        {
            if (_byId.TryAdd(e.EventId, e)) _all.Enqueue(e);
        }
        return Task.CompletedTask;
    }

    public Task<Page<PatientEvent>> ReadAsync(PatientEventQuery query, CancellationToken cancellationToken = default)
    {
        var limit = Cursors.Clamp(query.Limit);
        var before = query.Cursor is null ? long.MaxValue : Cursors.DecodeId(query.Cursor);
        // The queue position (from 1) stands in for the outbox id.
        var matches = _all.Select((e, i) => (Id: i + 1L, Event: e))
            .Where(x => x.Id < before && x.Event.TenantId == query.TenantId && x.Event.PatientId == query.PatientId
                        && (query.Types is not { Count: > 0 } types || types.Contains(x.Event.Type))
                        && (query.Since is null || x.Event.CreatedAt >= query.Since))
            .OrderByDescending(x => x.Id)
            .Take(limit + 1)
            .ToList();
        var page = matches.Take(limit).Select(x => new PatientEvent(x.Event.EventId, x.Event.Type, x.Event.CreatedAt, x.Event.SessionId,
            x.Event.ConnectionId, x.Event.StatusBefore, x.Event.StatusAfter, x.Event.FailureCode, x.Event.FailureDescription,
            x.Event.Deliver, System.Text.Json.Nodes.JsonNode.Parse(x.Event.Payload)?["data"]?.ToJsonString() ?? "null")).ToList();
        return Task.FromResult(new Page<PatientEvent>(page, matches.Count > limit ? Cursors.Encode(matches[limit - 1].Id) : null));
    }
}

/// <summary>The Npgsql data source of the webhook tables (ConnectionStrings:Postgres).</summary>
public sealed class WebhookDatabase(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    public NpgsqlDataSource DataSource => dataSource;

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}

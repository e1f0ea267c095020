using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;

namespace PatientConnect.Grains.Webhooks;

/// <summary>The durable outbox of webhook events (pc_webhook_outbox). Appends are idempotent by event id.</summary>
public interface IEventOutbox
{
    /// <summary>Stores the events in order; an event id already stored is skipped, so a repeat is harmless.</summary>
    Task AppendAsync(IReadOnlyList<PendingEvent> events, CancellationToken cancellationToken = default);
}

public sealed class PostgresEventOutbox(WebhookDatabase database) : IEventOutbox
{
    public async Task AppendAsync(IReadOnlyList<PendingEvent> events, CancellationToken cancellationToken = default)
    {
        if (events.Count == 0) return;
        // One statement for the batch: the rows get ascending ids in list order (unnest keeps it),
        // which is the delivery order per aggregate.
        await using var command = database.DataSource.CreateCommand("""
            INSERT INTO pc_webhook_outbox (tenant_id, event_id, event_type, aggregate_id, payload, created_at)
            SELECT t, e, ty, a, p::jsonb, c
            FROM unnest(@tenants, @events, @types, @aggregates, @payloads, @created) WITH ORDINALITY AS x(t, e, ty, a, p, c, n)
            ORDER BY n
            ON CONFLICT (event_id) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter("tenants", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.TenantId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("events", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.EventId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.Type).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("aggregates", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.AggregateId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("payloads", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.Payload).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("created", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = events.Select(e => e.CreatedAt.UtcDateTime).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>For an in-process test cluster without Postgres: keeps the events in memory, in order.</summary>
public sealed class InMemoryEventOutbox : IEventOutbox
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
}

/// <summary>The Npgsql data source of the webhook tables (ConnectionStrings:Postgres).</summary>
public sealed class WebhookDatabase(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    public NpgsqlDataSource DataSource => dataSource;

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}

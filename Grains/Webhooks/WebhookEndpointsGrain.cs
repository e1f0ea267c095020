using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Npgsql;
using PatientConnect.Common;
using PatientConnect.Grains.Common;
using PatientConnect.Grains.Security;
using PatientConnect.Webhooks;

namespace PatientConnect.Grains.Webhooks;

/// <summary>
/// A tenant's webhook endpoints (key: tenant id). The rows live in pc_webhook_endpoints rather than in
/// grain state because the dispatcher joins them with the deliveries in SQL; the grain is the one place
/// that writes them. Secrets are stored under the TokenProtector, bound to the endpoint id.
/// </summary>
public sealed class WebhookEndpointsGrain(
    WebhookDatabase database,
    TokenProtector protector,
    Outbound.OutboundGuard guard,
    TimeProvider timeProvider,
    Microsoft.Extensions.Options.IOptions<WebhookOptions> options,
    ILogger<WebhookEndpointsGrain> logger) : Grain, IWebhookEndpointsGrain
{
    private const int SecretBytes = 32;

    private string TenantId => this.GetPrimaryKeyString();

    public static string SecretContext(string endpointId) => $"{endpointId}/secret";

    public async Task<WebhookEndpointCreation> Create(string url, IReadOnlyList<string>? eventTypes = null)
    {
        // The same rule the dispatcher's connections obey, told now rather than as failed deliveries.
        if (guard.CheckUrl(url) is { } refused) return new WebhookEndpointCreation(null, refused);
        var id = Ids.NewWebhookEndpointId();
        var secret = NewSecret();
        var now = timeProvider.GetUtcNow();
        await using var command = database.DataSource.CreateCommand(
            "INSERT INTO pc_webhook_endpoints (id, tenant_id, url, secret_protected, created_at, event_types) VALUES (@id, @tenant, @url, @secret, @now, @types)");
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("tenant", TenantId);
        command.Parameters.AddWithValue("url", url);
        command.Parameters.AddWithValue("secret", protector.Protect(secret, SecretContext(id)));
        command.Parameters.AddWithValue("now", now.UtcDateTime);
        command.Parameters.Add(TypesParameter(eventTypes));
        await command.ExecuteNonQueryAsync();
        logger.LogInformation("Tenant {TenantId}: webhook endpoint {EndpointId} created", TenantId, id);
        return new WebhookEndpointCreation(new WebhookEndpointCreated(new WebhookEndpointView(id, url, now, Normalize(eventTypes)), secret), null);
    }

    /// <summary>Standard Webhooks: whsec_ followed by the base64 of the key (24 to 64 bytes).</summary>
    private static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>Stored sorted and distinct, so the list shows one canonical filter; null = every type.</summary>
    private static string[]? Normalize(IReadOnlyList<string>? types) =>
        types?.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    private static NpgsqlParameter TypesParameter(IReadOnlyList<string>? types) =>
        new("types", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)Normalize(types) ?? DBNull.Value };

    public Task<string?> CheckUrl(string url) => Task.FromResult(guard.CheckUrl(url));

    private const string ViewColumns =
        "id, url, created_at, event_types, enabled, updated_at, secret_rotated_at, CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END";

    private static WebhookEndpointView ReadView(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
        reader.IsDBNull(3) ? null : reader.GetFieldValue<string[]>(3),
        reader.GetBoolean(4),
        reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
        reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
        reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7));

    public async Task<IReadOnlyList<WebhookEndpointView>> List()
    {
        await using var command = database.DataSource.CreateCommand(
            $"SELECT {ViewColumns} FROM pc_webhook_endpoints WHERE tenant_id = @tenant AND deleted_at IS NULL ORDER BY created_at, id");
        command.Parameters.AddWithValue("tenant", TenantId);
        var list = new List<WebhookEndpointView>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) list.Add(ReadView(reader));
        return list;
    }

    public async Task<WebhookEndpointView?> Get(string endpointId)
    {
        await using var command = database.DataSource.CreateCommand(
            $"SELECT {ViewColumns} FROM pc_webhook_endpoints WHERE id = @id AND tenant_id = @tenant AND deleted_at IS NULL");
        command.Parameters.AddWithValue("id", endpointId);
        command.Parameters.AddWithValue("tenant", TenantId);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? ReadView(reader) : null;
    }

    public async Task<WebhookEndpointView?> Update(string endpointId, WebhookEndpointChange change)
    {
        // Fan-out reads enabled and event_types when it joins an event with the endpoints: events stored
        // after this commit follow the new setting; deliveries already made wait (disabled) or go out.
        await using var command = database.DataSource.CreateCommand($"""
            UPDATE pc_webhook_endpoints SET
                enabled = coalesce(@enabled, enabled),
                event_types = CASE WHEN @setTypes THEN @types ELSE event_types END,
                updated_at = @now
            WHERE id = @id AND tenant_id = @tenant AND deleted_at IS NULL
            RETURNING {ViewColumns}
            """);
        command.Parameters.AddWithValue("id", endpointId);
        command.Parameters.AddWithValue("tenant", TenantId);
        command.Parameters.Add(new NpgsqlParameter("enabled", NpgsqlTypes.NpgsqlDbType.Boolean) { Value = (object?)change.Enabled ?? DBNull.Value });
        command.Parameters.AddWithValue("setTypes", change.SetEventTypes);
        command.Parameters.Add(TypesParameter(change.EventTypes));
        command.Parameters.AddWithValue("now", timeProvider.GetUtcNow().UtcDateTime);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync()) return null;
        var view = ReadView(reader);
        logger.LogInformation("Tenant {TenantId}: webhook endpoint {EndpointId} updated (enabled {Enabled})", TenantId, endpointId, view.Enabled);
        return view;
    }

    public async Task<WebhookSecretRotation?> RotateSecret(string endpointId, TimeSpan? requestedOverlap)
    {
        var overlap = requestedOverlap ?? options.Value.SecretRotationOverlap;
        if (overlap < TimeSpan.Zero || overlap > IWebhookEndpointsGrain.MaxSecretOverlap)
            throw new ArgumentOutOfRangeException(nameof(requestedOverlap), overlap, "The overlap is 0 to 7 days.");
        var secret = NewSecret();
        var now = timeProvider.GetUtcNow();
        // The current secret becomes the previous one (a still-running earlier overlap ends: only two
        // secrets ever sign). Both are under the endpoint's own protector context.
        await using var command = database.DataSource.CreateCommand($"""
            UPDATE pc_webhook_endpoints SET
                previous_secret_protected = CASE WHEN @overlap > interval '0' THEN secret_protected END,
                previous_secret_expires_at = CASE WHEN @overlap > interval '0' THEN @now + @overlap END,
                secret_protected = @secret,
                secret_rotated_at = @now,
                updated_at = @now
            WHERE id = @id AND tenant_id = @tenant AND deleted_at IS NULL
            RETURNING {ViewColumns}
            """);
        command.Parameters.AddWithValue("id", endpointId);
        command.Parameters.AddWithValue("tenant", TenantId);
        command.Parameters.AddWithValue("secret", protector.Protect(secret, SecretContext(endpointId)));
        command.Parameters.AddWithValue("overlap", overlap);
        command.Parameters.AddWithValue("now", now.UtcDateTime);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync()) return null;
        var view = ReadView(reader);
        logger.LogInformation("Tenant {TenantId}: webhook endpoint {EndpointId} secret rotated; the previous one signs until {Until}",
            TenantId, endpointId, view.PreviousSecretExpiresAt);
        return new WebhookSecretRotation(view, secret);
    }

    public async Task<WebhookReplay?> Replay(string endpointId, DateTimeOffset since)
    {
        if (await Get(endpointId) is null) return null;
        // One delivery row per (endpoint, event): an event delivered before is re-opened (attempts start
        // again, its retry window counts from now), one never sent to this endpoint gets a row. The
        // dispatcher then sends them as it sends any delivery: per connection or session in outbox order.
        // A delivery in flight right now is left alone: it is being sent.
        await using var command = database.DataSource.CreateCommand("""
            WITH events AS (
                SELECT o.id, o.tenant_id, o.event_id, o.event_type, o.aggregate_id, o.created_at
                FROM pc_webhook_outbox o
                JOIN pc_webhook_endpoints e ON e.id = @id
                WHERE o.tenant_id = @tenant AND o.deliver AND o.created_at >= @since
                  AND (e.event_types IS NULL OR o.event_type = ANY(e.event_types))
            ), upserted AS (
                INSERT INTO pc_webhook_deliveries (outbox_id, endpoint_id, tenant_id, event_id, event_type, aggregate_id, created_at, next_attempt_at, replayed_at)
                SELECT id, @id, tenant_id, event_id, event_type, aggregate_id, created_at, now(), now() FROM events
                ORDER BY id
                ON CONFLICT (endpoint_id, event_id) DO UPDATE SET
                    delivered_at = NULL, failed_at = NULL, attempts = 0, next_attempt_at = now(), replayed_at = now(),
                    last_error = NULL, last_status_code = NULL
                WHERE pc_webhook_deliveries.locked_until IS NULL OR pc_webhook_deliveries.locked_until <= now()
                RETURNING 1
            )
            SELECT count(*) FROM upserted
            """);
        command.Parameters.AddWithValue("id", endpointId);
        command.Parameters.AddWithValue("tenant", TenantId);
        command.Parameters.AddWithValue("since", since.UtcDateTime);
        var count = Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        logger.LogInformation("Tenant {TenantId}: webhook endpoint {EndpointId} replay of {Count} events", TenantId, endpointId, count);
        return new WebhookReplay(endpointId, since, count);
    }

    public async Task<bool> Delete(string endpointId)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand(
            "UPDATE pc_webhook_endpoints SET deleted_at = @now WHERE id = @id AND tenant_id = @tenant AND deleted_at IS NULL", connection, tx);
        command.Parameters.AddWithValue("id", endpointId);
        command.Parameters.AddWithValue("tenant", TenantId);
        command.Parameters.AddWithValue("now", timeProvider.GetUtcNow().UtcDateTime);
        var deleted = await command.ExecuteNonQueryAsync() == 1;
        // What was still waiting for this endpoint will never be sent: close it so the list says so.
        await using var close = new NpgsqlCommand("""
            UPDATE pc_webhook_deliveries SET failed_at = @now, last_error = coalesce(last_error, 'endpoint deleted')
            WHERE endpoint_id = @id AND delivered_at IS NULL AND failed_at IS NULL
            """, connection, tx);
        close.Parameters.AddWithValue("id", endpointId);
        close.Parameters.AddWithValue("now", timeProvider.GetUtcNow().UtcDateTime);
        if (deleted) await close.ExecuteNonQueryAsync();
        await tx.CommitAsync();
        return deleted;
    }

    public async Task<Page<WebhookDeliveryView>?> ListDeliveries(string endpointId, int limit, string? cursor)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using (var owner = new NpgsqlCommand("SELECT 1 FROM pc_webhook_endpoints WHERE id = @id AND tenant_id = @tenant", connection))
        {
            owner.Parameters.AddWithValue("id", endpointId);
            owner.Parameters.AddWithValue("tenant", TenantId);
            if (await owner.ExecuteScalarAsync() is null) return null;
        }

        var before = long.MaxValue;
        if (!string.IsNullOrEmpty(cursor) && !long.TryParse(Cursors.Decode(cursor), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out before))
        {
            throw PatientConnect.Common.InvalidFieldException.CursorNotIssued();
        }
        var rows = new List<(long Id, WebhookDeliveryView View)>();
        await using (var command = new NpgsqlCommand("""
            SELECT id, event_id, event_type, aggregate_id, delivered_at, failed_at, attempts, created_at, next_attempt_at,
                   last_attempt_at, last_status_code, last_error
            FROM pc_webhook_deliveries
            WHERE endpoint_id = @id AND id < @before
            ORDER BY id DESC
            LIMIT @limit
            """, connection))
        {
            command.Parameters.AddWithValue("id", endpointId);
            command.Parameters.AddWithValue("before", before);
            command.Parameters.AddWithValue("limit", limit + 1);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var delivered = reader.IsDBNull(4) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(4);
                var failed = !reader.IsDBNull(5);
                var status = delivered is not null ? WebhookDeliveryStatus.Delivered : failed ? WebhookDeliveryStatus.Failed : WebhookDeliveryStatus.Pending;
                rows.Add((reader.GetInt64(0), new WebhookDeliveryView(
                    reader.GetString(1), reader.GetString(2), reader.GetString(3), status, reader.GetInt32(6),
                    reader.GetFieldValue<DateTimeOffset>(7),
                    status == WebhookDeliveryStatus.Pending ? reader.GetFieldValue<DateTimeOffset>(8) : null,
                    reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9),
                    reader.IsDBNull(10) ? null : reader.GetInt32(10),
                    reader.IsDBNull(11) ? null : reader.GetString(11),
                    delivered,
                    [])));
            }
        }

        var page = rows.Take(limit).ToList();
        var attempts = new Dictionary<long, List<WebhookAttemptView>>();
        if (page.Count > 0)
        {
            await using var command = new NpgsqlCommand("""
                SELECT delivery_id, attempted_at, status_code, error, duration_ms FROM pc_webhook_attempts
                WHERE delivery_id = ANY(@ids) ORDER BY delivery_id, id
                """, connection);
            command.Parameters.AddWithValue("ids", page.Select(r => r.Id).ToArray());
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var id = reader.GetInt64(0);
                if (!attempts.TryGetValue(id, out var list)) attempts[id] = list = [];
                list.Add(new WebhookAttemptView(reader.GetFieldValue<DateTimeOffset>(1),
                    reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt32(4)));
            }
        }
        var data = page.Select(r => r.View with { AttemptLog = attempts.TryGetValue(r.Id, out var a) ? a : [] }).ToList();
        var next = rows.Count > limit ? Cursors.Encode(page[^1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture)) : null;
        return new Page<WebhookDeliveryView>(data, next);
    }
}

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
    ILogger<WebhookEndpointsGrain> logger) : Grain, IWebhookEndpointsGrain
{
    private const int SecretBytes = 32;

    private string TenantId => this.GetPrimaryKeyString();

    public static string SecretContext(string endpointId) => $"{endpointId}/secret";

    public async Task<WebhookEndpointCreation> Create(string url)
    {
        // The same rule the dispatcher's connections obey, told now rather than as failed deliveries.
        if (guard.CheckUrl(url) is { } refused) return new WebhookEndpointCreation(null, refused);
        var id = Ids.NewWebhookEndpointId();
        // Standard Webhooks: whsec_ followed by the base64 of the key (24 to 64 bytes).
        var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));
        var now = timeProvider.GetUtcNow();
        await using var command = database.DataSource.CreateCommand(
            "INSERT INTO pc_webhook_endpoints (id, tenant_id, url, secret_protected, created_at) VALUES (@id, @tenant, @url, @secret, @now)");
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("tenant", TenantId);
        command.Parameters.AddWithValue("url", url);
        command.Parameters.AddWithValue("secret", protector.Protect(secret, SecretContext(id)));
        command.Parameters.AddWithValue("now", now.UtcDateTime);
        await command.ExecuteNonQueryAsync();
        logger.LogInformation("Tenant {TenantId}: webhook endpoint {EndpointId} created", TenantId, id);
        return new WebhookEndpointCreation(new WebhookEndpointCreated(new WebhookEndpointView(id, url, now), secret), null);
    }

    public Task<string?> CheckUrl(string url) => Task.FromResult(guard.CheckUrl(url));

    public async Task<IReadOnlyList<WebhookEndpointView>> List()
    {
        await using var command = database.DataSource.CreateCommand(
            "SELECT id, url, created_at FROM pc_webhook_endpoints WHERE tenant_id = @tenant AND deleted_at IS NULL ORDER BY created_at, id");
        command.Parameters.AddWithValue("tenant", TenantId);
        var list = new List<WebhookEndpointView>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            list.Add(new WebhookEndpointView(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }
        return list;
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

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using PatientConnect.Grains.Outbound;
using PatientConnect.Grains.Security;
using PatientConnect.Grains.Telemetry;
using StandardWebhooks;

namespace PatientConnect.Grains.Webhooks;

/// <summary>
/// Delivers the outbox. Runs in every silo; the silos share the work through row locks:
/// <list type="number">
/// <item>Fan-out: outbox rows not yet fanned out become one pc_webhook_deliveries row per endpoint of the
/// tenant (FOR UPDATE SKIP LOCKED, insert ON CONFLICT DO NOTHING, so two silos never fan out twice).</item>
/// <item>Claim: only the head of each (endpoint, aggregate) queue is eligible (the oldest undelivered
/// event of a connection or session), so event n+1 of a connection is never sent before n was delivered.
/// A claim sets a lease (locked_until) under FOR UPDATE SKIP LOCKED, re-checked in the UPDATE, so one
/// delivery is sent by one silo at a time; a crashed silo's lease lapses and another silo resumes.</item>
/// <item>Send: signed with StandardWebhooks, a short timeout, at most <see cref="WebhookOptions.PerEndpointConcurrency"/>
/// in flight per endpoint and never awaited by the loop, so a slow endpoint holds only its own slots
/// and other tenants keep flowing.</item>
/// <item>Outcome: 2xx is delivered; anything else is retried with jittered exponential backoff until the
/// retry window (≥ 24 h) after the event has passed, then failed. Every attempt is recorded.</item>
/// </list>
/// </summary>
public sealed class WebhookDispatcher(
    WebhookDatabase database,
    TokenProtector protector,
    IHttpClientFactory httpClientFactory,
    IOptions<WebhookOptions> options,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";

    private const int FanOutBatch = 500;

    private readonly ConcurrentDictionary<string, int> _inFlightPerEndpoint = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private int _inFlight;

    private WebhookOptions O => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                while (await FanOutAsync(stoppingToken) == FanOutBatch)
                {
                }
                claimed = await ClaimAndSendAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Webhook dispatcher round failed; retrying");
            }
            if (claimed == 0)
            {
                try
                {
                    // A finished send wakes the loop at once: the next event of that queue is now its head.
                    await _wake.WaitAsync(O.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private async Task<int> FanOutAsync(CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.CreateCommand("""
            WITH batch AS (
                SELECT id, tenant_id, event_id, event_type, aggregate_id, created_at
                FROM pc_webhook_outbox
                WHERE fanned_out_at IS NULL
                ORDER BY id
                LIMIT @batch
                FOR UPDATE SKIP LOCKED
            ), inserted AS (
                INSERT INTO pc_webhook_deliveries (outbox_id, endpoint_id, tenant_id, event_id, event_type, aggregate_id, created_at)
                SELECT b.id, e.id, b.tenant_id, b.event_id, b.event_type, b.aggregate_id, b.created_at
                FROM batch b
                JOIN pc_webhook_endpoints e ON e.tenant_id = b.tenant_id AND e.deleted_at IS NULL AND e.enabled
                    AND (e.event_types IS NULL OR b.event_type = ANY(e.event_types))
                ORDER BY b.id
                ON CONFLICT (endpoint_id, event_id) DO NOTHING
            )
            UPDATE pc_webhook_outbox o SET fanned_out_at = now()
            FROM batch WHERE o.id = batch.id
            """);
        command.Parameters.AddWithValue("batch", FanOutBatch);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>One claimed delivery; <see cref="WindowFrom"/> is when its retry window started (the event, or its replay).</summary>
    private sealed record Claim(long Id, string EndpointId, string EventId, int Attempts, DateTimeOffset WindowFrom, string Payload, string Url,
        string SecretProtected, string? PreviousSecretProtected);

    private async Task<int> ClaimAndSendAsync(CancellationToken cancellationToken)
    {
        var free = O.MaxInFlight - Volatile.Read(ref _inFlight);
        if (free <= 0) return 0;
        var busy = _inFlightPerEndpoint.Where(p => p.Value >= O.PerEndpointConcurrency).Select(p => p.Key).ToArray();

        var claims = new List<Claim>();
        await using (var connection = await database.DataSource.OpenConnectionAsync(cancellationToken))
        await using (var tx = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using (var select = new NpgsqlCommand("""
                WITH heads AS (
                    SELECT DISTINCT ON (endpoint_id, aggregate_id) id, endpoint_id, next_attempt_at, locked_until
                    FROM pc_webhook_deliveries
                    WHERE delivered_at IS NULL AND failed_at IS NULL
                    ORDER BY endpoint_id, aggregate_id, outbox_id
                ), due AS (
                    SELECT id, row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rn
                    FROM heads
                    WHERE next_attempt_at <= now() AND (locked_until IS NULL OR locked_until <= now())
                      AND NOT (endpoint_id = ANY(@busy))
                )
                SELECT d.id, d.endpoint_id, d.event_id, d.attempts, coalesce(d.replayed_at, d.created_at), o.payload::text, e.url, e.secret_protected,
                       CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret_protected END
                FROM pc_webhook_deliveries d
                JOIN due ON due.id = d.id AND due.rn <= @perEndpoint
                JOIN pc_webhook_outbox o ON o.id = d.outbox_id
                -- A disabled endpoint's deliveries wait (still pending) until it is enabled again.
                JOIN pc_webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled
                ORDER BY d.next_attempt_at, d.id
                LIMIT @limit
                FOR UPDATE OF d SKIP LOCKED
                """, connection, tx))
            {
                select.Parameters.AddWithValue("busy", busy);
                select.Parameters.AddWithValue("perEndpoint", (long)O.PerEndpointConcurrency);
                select.Parameters.AddWithValue("limit", free);
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    claims.Add(new Claim(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3),
                        reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5), reader.GetString(6), reader.GetString(7),
                        reader.IsDBNull(8) ? null : reader.GetString(8)));
                }
            }
            if (claims.Count == 0) return 0;

            // Re-checked on the newest row version: a silo that read the queue before another committed
            // its claim gets nothing back for that row.
            var leased = new HashSet<long>();
            await using (var lease = new NpgsqlCommand("""
                UPDATE pc_webhook_deliveries SET locked_until = now() + @lease
                WHERE id = ANY(@ids) AND delivered_at IS NULL AND failed_at IS NULL
                  AND (locked_until IS NULL OR locked_until <= now())
                RETURNING id
                """, connection, tx))
            {
                lease.Parameters.AddWithValue("lease", O.Lease);
                lease.Parameters.AddWithValue("ids", claims.Select(c => c.Id).ToArray());
                await using var reader = await lease.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) leased.Add(reader.GetInt64(0));
            }
            await tx.CommitAsync(cancellationToken);
            claims.RemoveAll(c => !leased.Contains(c.Id));
        }

        foreach (var claim in claims)
        {
            Interlocked.Increment(ref _inFlight);
            _inFlightPerEndpoint.AddOrUpdate(claim.EndpointId, 1, (_, n) => n + 1);
            // Not the stopping token: a delivery already on its way finishes (it has its own timeout)
            // and is recorded when the silo is asked to stop; see StopAsync.
            _ = Task.Run(() => DeliverAsync(claim, CancellationToken.None), CancellationToken.None);
        }
        return claims.Count;
    }

    private async Task DeliverAsync(Claim claim, CancellationToken cancellationToken)
    {
        try
        {
            var (status, error, elapsed) = await SendAsync(claim, cancellationToken);
            await RecordAsync(claim, status, error, elapsed);
        }
        catch (Exception e)
        {
            // The lease lapses and the delivery is tried again; nothing is lost.
            logger.LogWarning(e, "Webhook delivery {DeliveryId} could not be recorded", claim.Id);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            _inFlightPerEndpoint.AddOrUpdate(claim.EndpointId, 0, (_, n) => Math.Max(0, n - 1));
            _wake.Release();
        }
    }

    private async Task<(int? Status, string? Error, int ElapsedMs)> SendAsync(Claim claim, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var timestamp = DateTimeOffset.UtcNow;
            using var request = new HttpRequestMessage(HttpMethod.Post, claim.Url)
            {
                Content = new StringContent(claim.Payload, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
            };
            request.Headers.TryAddWithoutValidation("webhook-id", claim.EventId);
            request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation("webhook-signature", Signature(claim, timestamp));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(O.HttpTimeout);
            using var response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var code = (int)response.StatusCode;
            return (code, code is >= 200 and < 300 ? null : OutboundFailure.ForStatus(code), (int)watch.ElapsedMilliseconds);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, OutboundFailure.Timeout, (int)watch.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or UriFormatException)
        {
            // The tenant sees a category only: transport text names addresses and ports (a port-scan
            // oracle). The operator's log keeps the detail.
            var category = OutboundFailure.Categorize(e);
            logger.LogInformation("Webhook {EventId} to endpoint {EndpointId}: {Category}: {Message}", claim.EventId, claim.EndpointId, category, e.Message);
            return (null, category, (int)watch.ElapsedMilliseconds);
        }
    }

    /// <summary>
    /// Standard Webhooks signature header: <c>v1,&lt;base64&gt;</c> with the current secret and, during a
    /// rotation's overlap, a second space-separated entry with the previous one, so a receiver holding
    /// either secret verifies. Each entry is signed by its own key (the library signs with one key).
    /// </summary>
    private string Signature(Claim claim, DateTimeOffset timestamp)
    {
        var context = WebhookEndpointsGrain.SecretContext(claim.EndpointId);
        var current = new StandardWebhook(protector.Unprotect(claim.SecretProtected, context)).Sign(claim.EventId, timestamp, claim.Payload);
        if (claim.PreviousSecretProtected is null) return current;
        var previous = new StandardWebhook(protector.Unprotect(claim.PreviousSecretProtected, context)).Sign(claim.EventId, timestamp, claim.Payload);
        return current + " " + previous;
    }

    private async Task RecordAsync(Claim claim, int? status, string? error, int elapsedMs)
    {
        var delivered = error is null;
        var attempts = claim.Attempts + 1;
        var delay = RetryDelay(attempts);
        await using var batch = database.DataSource.CreateBatch();
        var update = new NpgsqlBatchCommand("""
            UPDATE pc_webhook_deliveries SET
                attempts = attempts + 1,
                last_attempt_at = now(),
                last_status_code = @status,
                last_error = @error,
                locked_until = NULL,
                delivered_at = CASE WHEN @delivered THEN now() END,
                failed_at = CASE WHEN NOT @delivered AND now() + @delay > coalesce(replayed_at, created_at) + @window THEN now() END,
                next_attempt_at = CASE WHEN @delivered THEN next_attempt_at ELSE now() + @delay END
            WHERE id = @id
            """);
        update.Parameters.AddWithValue("status", (object?)status ?? DBNull.Value);
        update.Parameters.AddWithValue("error", (object?)error ?? DBNull.Value);
        update.Parameters.AddWithValue("delivered", delivered);
        update.Parameters.AddWithValue("delay", delay);
        update.Parameters.AddWithValue("window", O.RetryWindow);
        update.Parameters.AddWithValue("id", claim.Id);
        var log = new NpgsqlBatchCommand(
            "INSERT INTO pc_webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms) VALUES (@id, now(), @status, @error, @ms)");
        log.Parameters.AddWithValue("id", claim.Id);
        log.Parameters.AddWithValue("status", (object?)status ?? DBNull.Value);
        log.Parameters.AddWithValue("error", (object?)error ?? DBNull.Value);
        log.Parameters.AddWithValue("ms", elapsedMs);
        batch.BatchCommands.Add(update);
        batch.BatchCommands.Add(log);
        await batch.ExecuteNonQueryAsync();
        // The same rule as failed_at above, on this clock: the retry would land past the window.
        PatientConnectMetrics.WebhookAttempt(delivered ? "delivered"
            : DateTimeOffset.UtcNow + delay > claim.WindowFrom + O.RetryWindow ? "failed" : "retry");
        if (!delivered)
        {
            logger.LogInformation("Webhook {EventId} to endpoint {EndpointId}: attempt {Attempt} failed ({Error}); next in {Delay}",
                claim.EventId, claim.EndpointId, attempts, error, delay);
        }
    }

    private TimeSpan RetryDelay(int attempts) => Common.Backoff.EqualJitter(O.RetryBaseDelay, O.RetryMaxDelay, attempts);

    /// <summary>
    /// A rolling restart stops claiming new deliveries at once, then lets those in flight finish and be
    /// recorded, so the receiver is not sent them again by another silo after their lease lapses.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        while (Volatile.Read(ref _inFlight) > 0 && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}

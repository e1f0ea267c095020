using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PatientConnect.Connections;
using PatientConnect.Grains.Connections;
using PatientConnect.Grains.Smart;
using PatientConnect.Grains.Telemetry;
using PatientConnect.Webhooks;

namespace PatientConnect.Grains.Refresh;

/// <summary>How one refresh ended: new tokens stored, refused by the source (refresh_failed), or to be retried.</summary>
internal enum RefreshResult { Refreshed, Rejected, Transient }

/// <summary>
/// One connection's token refresh: when it is due (expires_at − margin), the refresh_token grant at the
/// source, what the answer changes, and the connection's row in the refresh schedule.
/// <para>
/// Never loses a refresh token: the one we hold is replaced only in the same storage write as the new
/// access token (and kept when the source sends none), so a refresh cut off anywhere before that write
/// leaves the old pair in force, and the schedule row, moved only after the write, brings the refresh
/// back. Refreshes of one connection are serialized by its grain; one in flight is shared.
/// </para>
/// </summary>
internal sealed class TokenRefresh(IRefreshOwner owner, RefreshServices services, ILogger logger)
{
    public const string NoRefreshTokenCode = "no_refresh_token";

    private static readonly TimeSpan AssumedLifetime = TimeSpan.FromMinutes(5);

    private Task<RefreshResult>? _refreshing;

    private string Id => owner.ConnectionId;
    private ConnectionState S => owner.State;
    private RefreshOptions R => services.Options;
    private DateTimeOffset Now => services.Clock.GetUtcNow();

    /// <summary>expires_at − margin, the margin a share of the token's lifetime, between the configured floor and ceiling.</summary>
    public DateTimeOffset DueAt() => (S.AccessExpiresAt ?? Now) - Margin();

    /// <summary>From when a scheduler with free slots may start the refresh: DueAt less the early window, at most one margin.</summary>
    public DateTimeOffset EarlyAt()
    {
        var margin = Margin();
        return DueAt() - (R.EarlyWindow < margin ? R.EarlyWindow : margin);
    }

    private TimeSpan Margin()
    {
        var expires = S.AccessExpiresAt ?? Now;
        var lifetime = expires - (S.TokenIssuedAt ?? S.ConnectedAt ?? expires);
        var margin = TimeSpan.FromTicks((long)(lifetime.Ticks * R.MarginFraction));
        if (margin > R.Margin) margin = R.Margin;
        if (margin < R.MinimumMargin) margin = R.MinimumMargin;
        return margin;
    }

    /// <summary>The scheduler's wake (or a refresh reminder of an earlier version): refresh when due, else re-aim.</summary>
    public async Task OnDue()
    {
        if (!S.Exists || S.Status != ConnectionStatus.Active || S.AccessTokenProtected is null)
        {
            await Unschedule();
            return;
        }
        if (S.RefreshTokenProtected is null)
        {
            if (Now >= S.AccessExpiresAt) await MarkNoRefreshToken();
            else await Schedule();
            return;
        }
        if (Now < EarlyAt() && S.RefreshFailures == 0)
        {
            // Woken before even its early start (clock skew between silos, a row re-aimed meanwhile): aim again.
            await Schedule();
            return;
        }
        await RefreshShared();
    }

    /// <summary>Refreshes now, or joins the refresh already in flight.</summary>
    public Task<RefreshResult> RefreshShared()
    {
        if (_refreshing is { IsCompleted: false } inFlight) return inFlight;
        return _refreshing = RefreshMeasured();
    }

    /// <summary>Aims the schedule at the next refresh; without a refresh token, at expiry, to say refresh_failed when access lapses.</summary>
    public async Task Schedule()
    {
        if (S.Status != ConnectionStatus.Active || S.AccessExpiresAt is not { } expires)
        {
            await Unschedule();
            return;
        }
        // Without a refresh token there is nothing to start early: the row only marks when access lapses.
        if (S.RefreshTokenProtected is null) await services.Schedule.SetAsync(Id, expires, expires);
        else await services.Schedule.SetAsync(Id, DueAt(), EarlyAt());
    }

    public async Task Unschedule()
    {
        try
        {
            await services.Schedule.RemoveAsync(Id);
        }
        catch (Exception e)
        {
            // A row left behind wakes the connection once more, which finds it inactive and removes it.
            logger.LogWarning("Connection {ConnectionId}: removing its refresh schedule failed ({Kind}: {Message})", Id, e.GetType().Name, e.Message);
        }
    }

    /// <summary>Access lapsed and there is no refresh token (no offline_access): refresh_failed.</summary>
    public async Task MarkNoRefreshToken()
    {
        await owner.Change(s =>
        {
            s.Status = ConnectionStatus.RefreshFailed;
            s.FailureCode = NoRefreshTokenCode;
            s.FailureDescription = "The access token lapsed and the source granted no refresh token (offline_access). The patient needs to reconnect.";
            ConnectionGrain.ForgetTokens(s);
        }, WebhookEventTypes.ConnectionRefreshFailed);
        logger.LogInformation("Connection {ConnectionId}: access lapsed without a refresh token; refresh_failed", Id);
        PatientConnectMetrics.ConnectionEntered("refresh_failed");
        await Unschedule();
        await owner.RefreshEnded();
    }

    private async Task<RefreshResult> RefreshMeasured()
    {
        var lag = Now - DueAt();
        var vendor = PatientConnectMetrics.VendorOf(services.Catalog, S.SourceId);
        var result = "error";
        try
        {
            var outcome = await RefreshCore();
            result = outcome.ToString().ToLowerInvariant();
            return outcome;
        }
        finally
        {
            PatientConnectMetrics.TokenRefreshed(vendor, result, lag);
        }
    }

    private async Task<RefreshResult> RefreshCore()
    {
        var source = services.Catalog.Find(S.SourceId);
        if (source?.Registration is not { } registration)
        {
            return await RefreshTransient("The source is no longer configured for connections.");
        }
        SmartConfiguration config;
        try
        {
            config = await services.Smart.DiscoverAsync(source.View.FhirBaseUrl);
        }
        catch (SmartException e)
        {
            return await RefreshTransient(e.Description);
        }

        var protector = services.Protector;
        var sentRefreshToken = protector.Unprotect(S.RefreshTokenProtected!, ConnectionGrain.TokenContext(Id, "refresh"));
        var outcome = await services.Smart.RefreshAsync(config.TokenEndpoint, registration, sentRefreshToken);
        if (outcome.Token is { } token)
        {
            CrashHereIfAsked();
            await owner.Change(s =>
            {
                var now = Now;
                s.AccessTokenProtected = protector.Protect(token.AccessToken, ConnectionGrain.TokenContext(Id, "access"));
                // Rotating servers (Cerner-like) send a new refresh token and spend the old one; others send
                // none and the one we have stays valid. Either way it is written with the access token.
                if (token.RefreshToken is not null)
                {
                    s.RefreshTokenProtected = protector.Protect(token.RefreshToken, ConnectionGrain.TokenContext(Id, "refresh"));
                }
                s.AccessExpiresAt = now + (token.ExpiresIn ?? AssumedLifetime);
                s.TokenIssuedAt = now;
                s.LastRefreshedAt = now;
                s.RefreshFailures = 0;
                if (token.Scope is { } scope) s.Scopes = [.. SmartScopes.Split(scope)];
            }, WebhookEventTypes.ConnectionRefreshed);
            // Debug: the routine outcome, every connection every token lifetime; failures stay warnings and the
            // history has connection.refreshed.
            logger.LogDebug("Connection {ConnectionId} refreshed; access until {ExpiresAt:O}", Id, S.AccessExpiresAt);
            await Schedule();
            return RefreshResult.Refreshed;
        }
        if (outcome.IsRejected)
        {
            await owner.Change(s =>
            {
                s.Status = ConnectionStatus.RefreshFailed;
                s.FailureCode = outcome.RejectedCode;
                s.FailureDescription = $"The source refused to refresh access ({outcome.Description}). The patient needs to reconnect.";
                ConnectionGrain.ForgetTokens(s);
            }, WebhookEventTypes.ConnectionRefreshFailed);
            logger.LogWarning("Connection {ConnectionId}: refresh refused ({Code}); refresh_failed", Id, outcome.RejectedCode);
            PatientConnectMetrics.ConnectionEntered("refresh_failed");
            await Unschedule();
            await owner.RefreshEnded();
            return RefreshResult.Rejected;
        }
        return await RefreshTransient(outcome.Description ?? "The refresh failed.");
    }

    /// <summary>Transient: the status stays as it is; the schedule is re-aimed with a growing, jittered delay.</summary>
    private async Task<RefreshResult> RefreshTransient(string description)
    {
        await owner.Change(s => s.RefreshFailures++);
        var delay = Common.Backoff.EqualJitter(R.RetryBaseDelay, R.RetryMaxDelay, S.RefreshFailures);
        logger.LogWarning("Connection {ConnectionId}: refresh failed transiently ({Description}); retry #{Failures} in {Delay}",
            Id, description, S.RefreshFailures, delay);
        var retryAt = Now + delay;
        await services.Schedule.SetAsync(Id, retryAt, retryAt);
        return RefreshResult.Transient;
    }

    /// <summary>
    /// Fault injection for the crash test (<see cref="RefreshOptions.CrashAfterAnswerFile"/>): the process
    /// dies as a SIGKILL would, after the source answered and before anything of the answer is stored.
    /// </summary>
    private void CrashHereIfAsked()
    {
        if (R.CrashAfterAnswerFile is not { Length: > 0 } marker || !File.Exists(marker)) return;
        File.Delete(marker);
        Console.Error.WriteLine($"fault injection: connection {Id}: killing the silo after the source answered a refresh, before the write");
        Console.Error.Flush();
        using var self = Process.GetCurrentProcess();
        self.Kill();
    }
}

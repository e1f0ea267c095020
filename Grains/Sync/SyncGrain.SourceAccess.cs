using System.Net;
using PatientConnect.Connections;
using Polly.Timeout;

namespace PatientConnect.Grains.Sync;

/// <summary>
/// The sync's access to the source: the connection's lease, GETs with its token, one refresh on a 401,
/// and which failures end the run. Where a URL may go is <see cref="FhirUrlPolicy"/>'s rule.
/// </summary>
public sealed partial class SyncGrain
{
    /// <summary>
    /// One GET with the connection's token. 429/5xx/timeouts were already retried by the HttpClient's
    /// Polly pipeline; whatever still fails that way ends the sync. A 401 refreshes once.
    /// </summary>
    private async Task<FhirResponse> GetAsync(Uri url, string accept, long maxBytes, string type, CancellationToken token)
    {
        var lease = await AccessAsync(token);
        var response = await SendAsync(url, lease.AccessToken, accept, maxBytes, type, token);
        if (response.Status == HttpStatusCode.Unauthorized)
        {
            var rejected = lease.AccessToken;
            var refreshed = await FromConnectionAsync(() => GrainFactory.GetGrain<IConnectionGrain>(Id).RefreshAfterRejected(rejected));
            token.ThrowIfCancellationRequested();
            if (refreshed is null)
            {
                throw new SyncStoppedException("unauthorized: the source refused the access token and it could not be refreshed");
            }
            _lease = CheckLease(refreshed);
            response = await SendAsync(url, refreshed.AccessToken, accept, maxBytes, type, token);
            if (response.Status == HttpStatusCode.Unauthorized)
            {
                throw new SyncStoppedException("unauthorized: the source refused a freshly refreshed access token");
            }
        }
        if ((int)response.Status is 429 or >= 500)
        {
            throw new SyncStoppedException($"source_unavailable: {type} answered {response.Describe()} after retries");
        }
        return response;
    }

    private async Task<FhirResponse> SendAsync(Uri url, string token, string accept, long maxBytes, string type, CancellationToken cancellationToken)
    {
        S.Requests++;
        try
        {
            return await fhir.GetAsync(url, token, accept, maxBytes, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested
                                  && e is HttpRequestException or TimeoutRejectedException or TaskCanceledException or Polly.RateLimiting.RateLimiterRejectedException)
        {
            throw new SyncStoppedException($"source_unavailable: {type} request failed after retries ({e.GetType().Name})");
        }
    }

    private async Task<AccessLease> AccessAsync(CancellationToken token)
    {
        if (_lease is { } current && current.ExpiresAt - time.GetUtcNow() > LeaseMargin) return current;
        var lease = await FromConnectionAsync(() => GrainFactory.GetGrain<IConnectionGrain>(Id).GetAccess());
        token.ThrowIfCancellationRequested();
        if (lease is null) throw new SyncStoppedException("connection_inactive: the connection has no usable access (not active)");
        _lease = CheckLease(lease);
        return _lease;
    }

    /// <summary>
    /// The connection answers "not now" (its token endpoint is down, the token lapsed before a refresh
    /// got through) with InvalidOperationException: for the sync that is the source being unavailable,
    /// not an internal error.
    /// </summary>
    private static async Task<AccessLease?> FromConnectionAsync(Func<Task<AccessLease?>> call)
    {
        try
        {
            return await call();
        }
        catch (InvalidOperationException e)
        {
            throw new SyncStoppedException($"source_unavailable: no usable access token ({e.Message})");
        }
    }

    private AccessLease CheckLease(AccessLease lease)
    {
        var fhirBase = lease.FhirBaseUrl.TrimEnd('/');
        if (_fhirBase is not null && _fhirBase != fhirBase)
        {
            throw new SyncStoppedException("source_changed: the connection's FHIR base changed during the sync");
        }
        _fhirBase = fhirBase;
        if (S.TenantId is null)
        {
            S.TenantId = lease.TenantId;
            S.PatientId = lease.PatientId;
        }
        return lease;
    }
}

using PatientConnect.Common;

namespace PatientConnect.Webhooks;

/// <summary>A tenant's webhook endpoints and their delivery log, keyed by the tenant id.</summary>
[Alias("pc.IWebhookEndpointsGrain")]
public interface IWebhookEndpointsGrain : IGrainWithStringKey
{
    /// <summary>
    /// Registers an endpoint (the caller checked the URL's shape and the event types' names; the grain
    /// checks where the URL points); the answer carries the secret, or why the URL was refused.
    /// <paramref name="eventTypes"/> null receives every type.
    /// </summary>
    [Alias("Create")] Task<WebhookEndpointCreation> Create(string url, IReadOnlyList<string>? eventTypes = null);

    /// <summary>Null when the URL may receive webhooks; otherwise why not. Asked before anything is claimed or stored.</summary>
    [ReadOnly, Alias("CheckUrl")] Task<string?> CheckUrl(string url);

    [ReadOnly, Alias("List"), Retryable] Task<IReadOnlyList<WebhookEndpointView>> List();

    /// <summary>One endpoint; null when it is unknown, deleted or another tenant's.</summary>
    [ReadOnly, Alias("Get"), Retryable] Task<WebhookEndpointView?> Get(string endpointId);

    /// <summary>Enables/disables the endpoint or sets its event-type filter; null when it is not this tenant's.</summary>
    [Alias("Update")] Task<WebhookEndpointView?> Update(string endpointId, WebhookEndpointChange change);

    /// <summary>
    /// A new signing secret; the current one keeps signing next to it for <paramref name="overlap"/>
    /// (zero: it stops now; null: PatientConnect:Webhooks:SecretRotationOverlap, at most
    /// <see cref="MaxSecretOverlap"/>). Null when the endpoint is not this tenant's.
    /// </summary>
    [Alias("RotateSecret")] Task<WebhookSecretRotation?> RotateSecret(string endpointId, TimeSpan? overlap);

    /// <summary>The longest two secrets sign side by side.</summary>
    public static readonly TimeSpan MaxSecretOverlap = TimeSpan.FromDays(7);

    /// <summary>
    /// Sends the tenant's stored events created at or after <paramref name="since"/> (and matching the
    /// endpoint's filter) to this endpoint again, in their original order. Null when the endpoint is not this tenant's.
    /// </summary>
    [Alias("Replay")] Task<WebhookReplay?> Replay(string endpointId, DateTimeOffset since);

    /// <summary>Stops deliveries to the endpoint; false when it is unknown, deleted or another tenant's.</summary>
    [Alias("Delete")] Task<bool> Delete(string endpointId);

    /// <summary>Deliveries of one endpoint, newest first; null when the endpoint is not this tenant's.</summary>
    [ReadOnly, Alias("ListDeliveries"), Retryable] Task<Page<WebhookDeliveryView>?> ListDeliveries(string endpointId, int limit, string? cursor);
}

using PatientConnect.Common;

namespace PatientConnect.Webhooks;

/// <summary>A tenant's webhook endpoints and their delivery log, keyed by the tenant id.</summary>
[Alias("pc.IWebhookEndpointsGrain")]
public interface IWebhookEndpointsGrain : IGrainWithStringKey
{
    /// <summary>
    /// Registers an endpoint (the caller checked the URL's shape; the grain checks where it points);
    /// the answer carries the secret, or why the URL was refused.
    /// </summary>
    [Alias("Create")] Task<WebhookEndpointCreation> Create(string url);

    /// <summary>Null when the URL may receive webhooks; otherwise why not. Asked before anything is claimed or stored.</summary>
    [ReadOnly, Alias("CheckUrl")] Task<string?> CheckUrl(string url);

    [ReadOnly, Alias("List"), Retryable] Task<IReadOnlyList<WebhookEndpointView>> List();

    /// <summary>Stops deliveries to the endpoint; false when it is unknown, deleted or another tenant's.</summary>
    [Alias("Delete")] Task<bool> Delete(string endpointId);

    /// <summary>Deliveries of one endpoint, newest first; null when the endpoint is not this tenant's.</summary>
    [ReadOnly, Alias("ListDeliveries"), Retryable] Task<Page<WebhookDeliveryView>?> ListDeliveries(string endpointId, int limit, string? cursor);
}

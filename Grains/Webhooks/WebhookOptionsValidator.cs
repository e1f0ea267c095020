using Microsoft.Extensions.Options;
using PatientConnect.Grains.Common;

namespace PatientConnect.Grains.Webhooks;

public sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions o) => new OptionRules(WebhookOptions.SectionName)
        .Positive(nameof(o.PollInterval), o.PollInterval)
        .Positive(nameof(o.RetryBaseDelay), o.RetryBaseDelay)
        .Check(o.RetryMaxDelay >= o.RetryBaseDelay, nameof(o.RetryMaxDelay), $"must be at least {WebhookOptions.SectionName}:RetryBaseDelay ({o.RetryBaseDelay})", o.RetryMaxDelay)
        // The contract promises retries for at least 24 hours after the event.
        .AtLeast(nameof(o.RetryWindow), o.RetryWindow, TimeSpan.FromHours(24), "the contract retries deliveries for 24 h")
        .Positive(nameof(o.HttpTimeout), o.HttpTimeout)
        .AtLeast(nameof(o.PerEndpointConcurrency), o.PerEndpointConcurrency, 1)
        .AtLeast(nameof(o.MaxInFlight), o.MaxInFlight, 1)
        // A lease shorter than a send would let a second silo send the same delivery while the first still waits.
        .Check(o.Lease > o.HttpTimeout, nameof(o.Lease), $"must be longer than {WebhookOptions.SectionName}:HttpTimeout ({o.HttpTimeout})", o.Lease)
        .Check(o.SecretRotationOverlap >= TimeSpan.Zero && o.SecretRotationOverlap <= PatientConnect.Webhooks.IWebhookEndpointsGrain.MaxSecretOverlap,
            nameof(o.SecretRotationOverlap), "must be 0 to 7 days", o.SecretRotationOverlap)
        .Result;
}

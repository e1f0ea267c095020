using Microsoft.Extensions.Options;
using PatientConnect.Grains.Common;

namespace PatientConnect.Grains.Retention;

public sealed class RetentionOptionsValidator : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions o) => new OptionRules(RetentionOptions.SectionName)
        // Orleans refuses reminder periods under a minute (unless the silo lowers its floor).
        .AtLeast(nameof(o.Interval), o.Interval, TimeSpan.FromMinutes(1), "the reminder floor")
        // Deliveries are retried for 24 h (WebhookOptions.RetryWindow ≥ 24 h); history must outlive that.
        .AtLeast(nameof(o.WebhookHistory), o.WebhookHistory, TimeSpan.FromHours(25), "webhooks are retried for 24 h")
        .AtLeast(nameof(o.IdempotencyRecords), o.IdempotencyRecords, TimeSpan.FromHours(24), "the contract replays a key for 24 h")
        // A session's link and its webhook events refer to it for a day at most; less than that would
        // delete what an app may still be reading.
        .Check(o.SessionHistory == TimeSpan.Zero || o.SessionHistory >= TimeSpan.FromDays(1), nameof(o.SessionHistory),
            "must be 00:00:00 (keep forever) or at least 1.00:00:00", o.SessionHistory)
        .AtLeast(nameof(o.BatchSize), o.BatchSize, 1)
        .Result;
}

using Microsoft.Extensions.Options;
using PatientConnect.Grains.Common;

namespace PatientConnect.Grains.Sync;

public sealed class SyncOptionsValidator : IValidateOptions<SyncOptions>
{
    public ValidateOptionsResult Validate(string? name, SyncOptions o) => new OptionRules(SyncOptions.SectionName)
        .AtLeast(nameof(o.Concurrency), o.Concurrency, 1)
        .AtLeast(nameof(o.PageSize), o.PageSize, 1)
        .AtLeast(nameof(o.RequestsPerSecondPerSource), o.RequestsPerSecondPerSource, 1)
        .AtLeast(nameof(o.MaxAttachmentBytes), o.MaxAttachmentBytes, 0)
        .AtLeast(nameof(o.MaxRetries), o.MaxRetries, 0)
        .Positive(nameof(o.AttemptTimeout), o.AttemptTimeout)
        .NotNegative(nameof(o.MaxRetryDelay), o.MaxRetryDelay)
        .Check(o.ObservationCategories.All(c => !string.IsNullOrWhiteSpace(c)), nameof(o.ObservationCategories),
            "must not contain empty entries", string.Join(",", o.ObservationCategories))
        .Result;
}

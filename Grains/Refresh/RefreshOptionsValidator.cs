using Microsoft.Extensions.Options;
using PatientConnect.Grains.Common;

namespace PatientConnect.Grains.Refresh;

public sealed class RefreshOptionsValidator : IValidateOptions<RefreshOptions>
{
    public ValidateOptionsResult Validate(string? name, RefreshOptions o) => new OptionRules(RefreshOptions.SectionName)
        .NotNegative(nameof(o.Margin), o.Margin)
        // A fraction of 1 or more would aim every refresh at (or before) the moment the token was issued.
        .Check(o.MarginFraction is >= 0 and < 1, nameof(o.MarginFraction), "must be from 0 up to (not including) 1", o.MarginFraction)
        .NotNegative(nameof(o.MinimumMargin), o.MinimumMargin)
        .NotNegative(nameof(o.EarlyWindow), o.EarlyWindow)
        .Check(o.MinimumMargin <= o.Margin, nameof(o.MinimumMargin), $"must not exceed {RefreshOptions.SectionName}:Margin ({o.Margin})", o.MinimumMargin)
        .Positive(nameof(o.ReminderPeriod), o.ReminderPeriod)
        .Positive(nameof(o.RetryBaseDelay), o.RetryBaseDelay)
        .Check(o.RetryMaxDelay >= o.RetryBaseDelay, nameof(o.RetryMaxDelay), $"must be at least {RefreshOptions.SectionName}:RetryBaseDelay ({o.RetryBaseDelay})", o.RetryMaxDelay)
        .Positive(nameof(o.SchedulerPollInterval), o.SchedulerPollInterval)
        .AtLeast(nameof(o.SchedulerBatchSize), o.SchedulerBatchSize, 1)
        .AtLeast(nameof(o.SchedulerConcurrency), o.SchedulerConcurrency, 1)
        // Shorter than the slowest token call (25 s with retries) would let a second silo start the same refresh.
        .AtLeast(nameof(o.ClaimLease), o.ClaimLease, TimeSpan.FromSeconds(30), "longer than a token call may take")
        .Result;
}

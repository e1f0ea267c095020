using System.Globalization;
using Microsoft.Extensions.Options;

namespace PatientConnect.Grains.Common;

/// <summary>
/// Collects what is wrong with one options section, each failure naming the full configuration key
/// (e.g. <c>PatientConnect:Sync:Concurrency</c>) and the value found, so the process stops at start
/// with a message an operator can act on.
/// </summary>
public sealed class OptionRules(string section)
{
    private readonly List<string> _failures = [];

    public OptionRules AtLeast(string name, long value, long minimum) =>
        Check(value >= minimum, name, $"must be at least {minimum}", value);

    public OptionRules Between(string name, double value, double minimum, double maximum) =>
        Check(value >= minimum && value <= maximum, name, $"must be from {minimum.ToString(CultureInfo.InvariantCulture)} to {maximum.ToString(CultureInfo.InvariantCulture)}", value);

    public OptionRules Positive(string name, TimeSpan value) =>
        Check(value > TimeSpan.Zero, name, "must be a positive duration (e.g. 00:00:05)", value);

    public OptionRules NotNegative(string name, TimeSpan value) =>
        Check(value >= TimeSpan.Zero, name, "must not be negative", value);

    public OptionRules AtLeast(string name, TimeSpan value, TimeSpan minimum, string why) =>
        Check(value >= minimum, name, $"must be at least {minimum} ({why})", value);

    public OptionRules Check(bool ok, string name, string rule, object? value)
    {
        if (!ok)
        {
            var shown = value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value?.ToString() ?? "(empty)";
            _failures.Add($"{section}:{name} {rule}; it is {shown}.");
        }
        return this;
    }

    public ValidateOptionsResult Result => _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);
}

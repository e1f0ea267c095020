namespace PatientConnect.Grains.Common;

/// <summary>The one retry-delay rule of the service (webhook deliveries, token refreshes).</summary>
public static class Backoff
{
    /// <summary>
    /// Exponential from <paramref name="baseDelay"/> (attempt 1 waits about the base), capped at
    /// <paramref name="maxDelay"/>, with "equal jitter": half fixed, half random, so the retries of many
    /// items that failed together spread out instead of arriving together again.
    /// </summary>
    public static TimeSpan EqualJitter(TimeSpan baseDelay, TimeSpan maxDelay, int attempt, Random? random = null)
    {
        // The exponent is bounded so the double stays finite; the cap is reached long before it.
        var exponential = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        var capped = Math.Min(exponential, maxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped / 2 + (random ?? Random.Shared).NextDouble() * capped / 2);
    }
}

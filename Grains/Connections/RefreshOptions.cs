namespace PatientConnect.Grains.Connections;

/// <summary><c>PatientConnect:Refresh</c>: when access tokens are refreshed ahead of their expiry.</summary>
public sealed class RefreshOptions
{
    public const string SectionName = "PatientConnect:Refresh";

    /// <summary>The most a refresh is brought forward before the access token lapses.</summary>
    public TimeSpan Margin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Share of a token's lifetime used as margin when that is less than <see cref="Margin"/> (short tokens).</summary>
    public double MarginFraction { get; set; } = 0.2;

    /// <summary>The least margin: below it, a refresh would race the token's own expiry.</summary>
    public TimeSpan MinimumMargin { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Period of the refresh reminder: only the fallback when a tick fails (each tick re-aims the
    /// reminder at the next expiry). Orleans refuses less than ReminderOptions.MinimumReminderPeriod.
    /// </summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>First retry after a transient refresh failure; doubled per failure up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Start a sync when a connection becomes active (the product behaviour). Off only for load tests of
    /// the token lifecycle itself, where thousands of simulated connections have no records to fetch.
    /// </summary>
    public bool StartSyncOnActivate { get; set; } = true;
}

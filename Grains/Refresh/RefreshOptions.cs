namespace PatientConnect.Grains.Refresh;

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
    /// Period of the connection's reminders (the connection.expiring warning, and refresh reminders left
    /// by earlier versions until they move to the schedule): only the fallback when a tick fails.
    /// Orleans refuses less than ReminderOptions.MinimumReminderPeriod.
    /// </summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often each silo's scheduler looks for due refreshes when the last look found none waiting.</summary>
    public TimeSpan SchedulerPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Due refreshes one silo claims per look (pc_refresh_schedule rows).</summary>
    public int SchedulerBatchSize { get; set; } = 500;

    /// <summary>
    /// How far ahead of its plan (expires_at − margin) a refresh may start when a silo's scheduler has free
    /// slots after every due refresh; per connection at most its own margin, so a token is used for at
    /// least its lifetime less two margins. Zero (the default): never early. A deployment whose tokens come
    /// due in waves (many connections made within minutes, with short-lived tokens) sets it so the wave is
    /// worked off ahead of its plan instead of queueing behind it.
    /// </summary>
    public TimeSpan EarlyWindow { get; set; } = TimeSpan.Zero;

    /// <summary>Refreshes one silo runs at once (each is a token call to an EHR and a state write).</summary>
    public int SchedulerConcurrency { get; set; } = 64;

    /// <summary>
    /// A claimed refresh is hidden from the other silos this long. The connection re-aims its row when it
    /// is done; if the silo dies first, the row is due again when the lease ends (the retry fallback).
    /// </summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>First retry after a transient refresh failure; doubled per failure up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Fault injection, for the refresh crash test only (unset in production): when this file exists as a
    /// source answers a refresh, the silo deletes it and kills itself before storing the answer.
    /// </summary>
    public string? CrashAfterAnswerFile { get; set; }

    /// <summary>
    /// Start a sync when a connection becomes active (the product behaviour). Off only for load tests of
    /// the token lifecycle itself, where thousands of simulated connections have no records to fetch.
    /// </summary>
    public bool StartSyncOnActivate { get; set; } = true;
}

namespace PatientConnect.Grains.Sync;

/// <summary><c>PatientConnect:Sync</c>: how hard a sync pulls on a source and how much it keeps.</summary>
public sealed class SyncOptions
{
    public const string SectionName = "PatientConnect:Sync";

    /// <summary>Searches and reads in flight at once within one sync.</summary>
    public int Concurrency { get; set; } = 6;

    /// <summary><c>_count</c> asked of every search; servers clamp it to their own maximum.</summary>
    public int PageSize { get; set; } = 200;

    /// <summary>
    /// Requests per second to one source (host) across every sync of every silo (SourceRateGrain); the
    /// burst is the same number. Every silo should have the same value: the grain's silo's value applies.
    /// </summary>
    public int RequestsPerSecondPerSource { get; set; } = 200;

    /// <summary>Attachments larger than this are skipped and reported in the sync notes.</summary>
    public long MaxAttachmentBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Retries of a 429, 5xx or timed-out request before the sync gives up on the source.</summary>
    public int MaxRetries { get; set; } = 8;

    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest Retry-After honoured, so a confused source cannot park a sync for hours.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Observation categories searched one by one when a source refuses an Observation search without
    /// category (Epic does): the US Core categories.
    /// </summary>
    public List<string> ObservationCategories { get; set; } =
    [
        "laboratory", "vital-signs", "social-history", "survey", "exam", "imaging", "procedure", "therapy", "activity", "sdoh",
    ];
}

namespace PatientConnect.Grains.Retention;

/// <summary><c>PatientConnect:Retention</c>: how long finished rows are kept, and how often the job runs.</summary>
public sealed class RetentionOptions
{
    public const string SectionName = "PatientConnect:Retention";

    /// <summary>Period of the cluster-wide job's reminder.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Delivered (or given-up) webhook deliveries and their attempts, and events with nothing left to
    /// deliver, are kept this long after the event. Pending deliveries are never deleted.
    /// </summary>
    public TimeSpan WebhookHistory { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Idempotency records are kept this long after their last write; the contract replays a key for 24 h,
    /// so less than that is refused at start.
    /// </summary>
    public TimeSpan IdempotencyRecords { get; set; } = TimeSpan.FromHours(25);

    /// <summary>
    /// Ended patient sessions (complete or expired) are kept this long after their last change, then
    /// deleted; <c>00:00:00</c> keeps them forever. A patient's session list skips ids whose session is gone.
    /// </summary>
    public TimeSpan SessionHistory { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Rows deleted per statement, so one pass never holds long locks on a busy table.</summary>
    public int BatchSize { get; set; } = 5000;
}

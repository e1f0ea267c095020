namespace PatientConnect.Grains.Webhooks;

/// <summary><c>PatientConnect:Webhooks</c>: the dispatcher's pace and patience.</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "PatientConnect:Webhooks";

    /// <summary>How often an idle dispatcher looks for due deliveries.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>First retry delay; doubled per attempt up to <see cref="RetryMaxDelay"/>, each jittered.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long after the event a delivery is still retried (the contract says at least 24 h).</summary>
    public TimeSpan RetryWindow { get; set; } = TimeSpan.FromHours(25);

    /// <summary>Short on purpose: a receiver that hangs costs one slot of its own endpoint for this long.</summary>
    public TimeSpan HttpTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Deliveries in flight to one endpoint at a time (across its connections).</summary>
    public int PerEndpointConcurrency { get; set; } = 4;

    /// <summary>Deliveries in flight in this silo.</summary>
    public int MaxInFlight { get; set; } = 128;

    /// <summary>A claimed delivery is this silo's for this long; a crashed silo's claims lapse after it.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the replaced secret keeps signing after a rotation when the request names no overlap.</summary>
    public TimeSpan SecretRotationOverlap { get; set; } = TimeSpan.FromHours(24);
}

namespace PatientConnect.Telemetry;

/// <summary>
/// Cluster-wide figures that are the same whichever process is asked (connections by status, the
/// webhook backlog), measured in the database by a stateless worker on each silo. Every process,
/// the Api host included, exports them as gauges through <see cref="ClusterGaugesReporter"/>.
/// </summary>
[Alias("pc.IClusterGaugesGrain")]
public interface IClusterGaugesGrain : IGrainWithIntegerKey
{
    /// <summary>The latest measurement (at most a few seconds old; several callers share one query).</summary>
    [ReadOnly, Retryable, ResponseTimeout("00:00:10"), Alias("Read")] Task<ClusterGauges> Read();
}

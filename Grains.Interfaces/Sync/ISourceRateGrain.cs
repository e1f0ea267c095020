namespace PatientConnect.Sync;

/// <summary>
/// The request budget of one FHIR source (keyed by its host:port), shared by every silo: one
/// activation in the cluster hands out send times, so N silos together keep the configured rate.
/// </summary>
[Alias("pc.ISourceRateGrain")]
public interface ISourceRateGrain : IGrainWithStringKey
{
    /// <summary>Reserves one request; the answer is how long the caller waits before sending it.</summary>
    [Alias("Reserve")] Task<TimeSpan> Reserve();
}

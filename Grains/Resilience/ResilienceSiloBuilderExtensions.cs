using PatientConnect.Resilience;

namespace PatientConnect.Grains.Resilience;

public static class ResilienceSiloBuilderExtensions
{
    /// <summary>
    /// The silo's share of surviving silo loss and database outages: grain calls marked [Retryable]
    /// are retried across membership changes, and "database away" leaves every grain as the typed
    /// transient error. The test cluster uses the same call.
    /// </summary>
    public static ISiloBuilder AddPatientConnectResilience(this ISiloBuilder silo)
    {
        silo.AddOutgoingGrainCallFilter<ClusterCallRetryFilter>();
        silo.AddIncomingGrainCallFilter<DatabaseUnavailableFilter>();
        return silo;
    }
}

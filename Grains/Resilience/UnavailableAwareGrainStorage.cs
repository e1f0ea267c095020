using Orleans.Storage;

namespace PatientConnect.Grains.Resilience;

/// <summary>
/// Wraps the Postgres grain storage so a read that fails while a grain activates (before any call
/// filter runs) also reaches the caller as <see cref="PatientConnect.Resilience.ServiceUnavailableException"/>.
/// </summary>
public sealed class UnavailableAwareGrainStorage(IGrainStorage inner) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Guard(() => inner.ReadStateAsync(stateName, grainId, grainState));

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Guard(() => inner.WriteStateAsync(stateName, grainId, grainState));

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Guard(() => inner.ClearStateAsync(stateName, grainId, grainState));

    private static async Task Guard(Func<Task> operation)
    {
        try
        {
            await operation();
        }
        catch (Exception e) when (e is not InconsistentStateException && TransientFailures.IsDatabaseUnavailable(e))
        {
            throw TransientFailures.Unavailable("grain storage", e);
        }
    }
}

using Microsoft.Extensions.Options;
using PatientConnect.Sync;

namespace PatientConnect.Grains.Sync;

/// <summary>
/// A generic cell rate algorithm: each request is given a theoretical send time one interval
/// (1/N s) after the previous one; up to N requests (one second's burst) may go at once, later ones
/// wait for their slot. Callers wait on their own silo, so the grain answers at once and never queues.
/// </summary>
public sealed class SourceRateGrain(IOptions<SyncOptions> options, TimeProvider time) : Grain, ISourceRateGrain
{
    private long _theoreticalTicks;

    public Task<TimeSpan> Reserve()
    {
        var perSecond = Math.Max(1, options.Value.RequestsPerSecondPerSource);
        var interval = TimeSpan.TicksPerSecond / perSecond;
        var now = time.GetUtcNow().UtcTicks;
        _theoreticalTicks = Math.Max(_theoreticalTicks, now) + interval;
        var wait = _theoreticalTicks - now - perSecond * interval;
        return Task.FromResult(TimeSpan.FromTicks(Math.Max(0, wait)));
    }
}

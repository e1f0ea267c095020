using PatientConnect.Retention;

namespace PatientConnect.Silo.Retention;

/// <summary>
/// Makes sure the cluster-wide retention reminder exists once the silo is active. Every silo asks;
/// the reminder is one row, so asking again only re-aims it.
/// </summary>
public sealed class RetentionScheduler(IGrainFactory grains, ILogger<RetentionScheduler> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await grains.GetGrain<IRetentionGrain>(0).Schedule().WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Not a reason to stop the silo: the next silo start (or this one's restart) schedules it.
            logger.LogWarning(e, "Scheduling the retention job failed");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

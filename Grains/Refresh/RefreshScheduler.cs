using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PatientConnect.Connections;

namespace PatientConnect.Grains.Refresh;

/// <summary>
/// One per silo, running while the silo is active: claims the connections whose refresh is due from
/// <see cref="IRefreshSchedule"/> and wakes each (<see cref="IConnectionGrain.RefreshDue"/>), at most
/// <see cref="RefreshOptions.SchedulerConcurrency"/> at a time. Only due connections are activated, and
/// every silo claims, so the work spreads over the cluster and survives the loss of any silo.
/// </summary>
public sealed class RefreshScheduler(
    IGrainFactory grains,
    IRefreshSchedule schedule,
    IOptions<RefreshOptions> options,
    TimeProvider timeProvider,
    ILogger<RefreshScheduler> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    private RefreshOptions O => options.Value;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RefreshScheduler), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task Stop(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null) await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        using var slots = new SemaphoreSlim(O.SchedulerConcurrency, O.SchedulerConcurrency);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Claim only what can start now (a claimed row's lease runs while it waits), and in batches: a
                // quarter of the slots at least. Claiming each slot as it freed made one claim (one or two
                // queries) per refresh once every slot was busy, and the claims, not the refreshes, set the pace.
                var free = slots.CurrentCount;
                var enough = Math.Clamp(O.SchedulerConcurrency / 4, 1, O.SchedulerBatchSize);
                if (free < enough)
                {
                    await WaitForFreeSlotsAsync(slots, enough, stopping);
                    continue;
                }
                var now = timeProvider.GetUtcNow();
                var due = await schedule.ClaimAsync(now, now + O.ClaimLease, Math.Min(free, O.SchedulerBatchSize), stopping);
                foreach (var refresh in due)
                {
                    await slots.WaitAsync(stopping);
                    _ = WakeAsync(refresh, slots);
                }
                if (due.Count < Math.Min(free, O.SchedulerBatchSize))
                {
                    // Nothing more due: look again after the interval (a refresh is planned minutes ahead, so
                    // this adds at most the interval to its lag).
                    await Task.Delay(O.SchedulerPollInterval, stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning("Refresh scheduler: claiming due refreshes failed ({Kind}: {Message}); trying again", e.GetType().Name, e.Message);
                await Task.Delay(O.SchedulerPollInterval, CancellationToken.None);
            }
        }
    }

    /// <summary>Returns once <paramref name="count"/> slots have been free together (they are handed back at once).</summary>
    private static async Task WaitForFreeSlotsAsync(SemaphoreSlim slots, int count, CancellationToken stopping)
    {
        var held = 0;
        try
        {
            while (held < count)
            {
                await slots.WaitAsync(stopping);
                held++;
            }
        }
        finally
        {
            if (held > 0) slots.Release(held);
        }
    }

    private async Task WakeAsync(DueRefresh refresh, SemaphoreSlim slots)
    {
        try
        {
            await grains.GetGrain<IConnectionGrain>(refresh.ConnectionId).RefreshDue();
        }
        catch (Exception e)
        {
            // The row stays claimed until its lease ends, then it is due again: nothing is dropped.
            logger.LogWarning("Refresh scheduler: waking connection {ConnectionId} failed ({Kind}: {Message}); it is due again after the lease",
                refresh.ConnectionId, e.GetType().Name, e.Message);
        }
        finally
        {
            slots.Release();
        }
    }
}

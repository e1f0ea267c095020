using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// The durable trigger of session expiry (and of a finished callback's leftovers), in place of a
/// reminder row per session: every silo claims the sessions whose stored due_at has passed and wakes
/// their grains, which record the expiry and send patient_session.expired. The schedule is the session
/// rows themselves, so it costs a create nothing, survives restarts, and a claim (SKIP LOCKED, good for
/// <see cref="SessionSchedule.Retry"/>) keeps two silos from waking the same session at once. A wake
/// that fails is claimed again after the retry time.
/// </summary>
public sealed class SessionScheduler(ISessionIndex index, IGrainFactory grains, TimeProvider time, ILogger<SessionScheduler> logger)
    : BackgroundService
{
    /// <summary>How often a silo looks for due sessions: the most an expiry is recorded after expires_at.</summary>
    public static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    private const int Batch = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                var now = time.GetUtcNow();
                var due = await index.ClaimDueAsync(now, now + SessionSchedule.Retry, Batch);
                claimed = due.Count;
                await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = stoppingToken },
                    async (id, _) =>
                    {
                        try
                        {
                            await grains.GetGrain<IPatientSessionGrain>(id).Wake();
                        }
                        catch (Exception e)
                        {
                            logger.LogWarning("Session {SessionId}: waking it for its due work failed ({Kind}); claimed again in {Retry}",
                                id, e.GetType().Name, SessionSchedule.Retry);
                        }
                    });
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database away or the silo not yet active: the rows stay due, the next poll tries again.
                logger.LogWarning("Looking for due sessions failed ({Kind}: {Message})", e.GetType().Name, e.Message);
            }
            // A full batch means more are due now (a backlog after an outage): no pause before the next.
            if (claimed < Batch)
            {
                try
                {
                    // Wall time between polls; "due" is judged by the clock the grains use (a test's hand-moved one).
                    await Task.Delay(Poll, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

using Microsoft.Extensions.Logging;

namespace PatientConnect.Grains.Webhooks;

/// <summary>
/// The grain side of the outbox pattern. A grain adds its events to its state's pending list, writes its
/// state once (the change and its events together), then calls <see cref="FlushAsync"/>, which copies
/// them into pc_webhook_outbox and drops them from memory. Why nothing is lost or invented:
/// <list type="bullet">
/// <item>No change without its event: both are in one storage write; a crash after it leaves the event
/// pending in the stored state, and the grain flushes pending events whenever it activates (and on each
/// later change), so it reaches the outbox late but in order.</item>
/// <item>No event without its change: an event is only flushed after the write that stored the change
/// succeeded; a failed write throws before the flush.</item>
/// <item>No duplicate: a repeated flush (crash after the outbox insert, before the pending list was
/// written empty) inserts the same event ids, which the outbox skips.</item>
/// </list>
/// The emptied list is written with the grain's next state write, not at once, to spare a storage write per event.
/// </summary>
public static class EventLog
{
    public static async Task FlushAsync(List<PendingEvent> pending, IEventOutbox outbox, ILogger logger, string grainId)
    {
        if (pending.Count == 0) return;
        var batch = pending.ToArray();
        try
        {
            await outbox.AppendAsync(batch);
            pending.RemoveRange(0, Math.Min(batch.Length, pending.Count));
        }
        catch (Exception e)
        {
            // The events stay pending in the stored state; the next activation or change flushes them.
            logger.LogWarning(e, "{GrainId}: {Count} webhook event(s) not yet in the outbox; kept pending", grainId, batch.Length);
        }
    }
}

using System.Threading.Channels;

namespace PatientConnect.Grains.Common;

/// <summary>
/// The one group-commit queue of the silo: the writes that many grains ask for at the same moment go to
/// Postgres together, in one statement and one commit, by a single writer in the order they were asked;
/// each caller still waits until its own item is durable. This is what lets one silo record thousands of
/// outbox events or refresh due times a second where a commit per caller would be the bound.
/// <para>
/// A group that fails is written again item by item, so one bad item fails only its own caller and the
/// others land; a failure is always reported to the caller (its grain call fails and is retried), never
/// dropped. Cancelling a wait does not cancel the write: the writes given to this queue are idempotent.
/// </para>
/// </summary>
/// <param name="write">Writes a group of items in one statement, in list order.</param>
/// <param name="maxGroupSize">The most a group weighs (a larger single item still goes alone).</param>
/// <param name="weight">What an item weighs against <paramref name="maxGroupSize"/> (1 when not given).</param>
public sealed class GroupCommit<T> : IAsyncDisposable where T : notnull
{
    private readonly Func<IReadOnlyList<T>, Task> _write;
    private readonly int _maxGroupSize;
    private readonly Func<T, int> _weight;
    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public GroupCommit(Func<IReadOnlyList<T>, Task> write, int maxGroupSize, Func<T, int>? weight = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxGroupSize, 1);
        _write = write;
        _maxGroupSize = maxGroupSize;
        _weight = weight ?? (_ => 1);
        _writer = Task.Run(WriteGroupsAsync);
    }

    /// <summary>Completes when <paramref name="item"/> is durable; fails with the write's error.</summary>
    public Task WriteAsync(T item, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new Pending(item, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_pending.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(GroupCommit<T>));
        return cancellationToken.CanBeCanceled ? pending.Written.Task.WaitAsync(cancellationToken) : pending.Written.Task;
    }

    private async Task WriteGroupsAsync()
    {
        var group = new List<Pending>();
        var items = new List<T>();
        Pending? carried = null;
        while (carried is not null || await _pending.Reader.WaitToReadAsync())
        {
            group.Clear();
            items.Clear();
            var weight = 0;
            if (carried is not null)
            {
                group.Add(carried);
                items.Add(carried.Item);
                weight = _weight(carried.Item);
                carried = null;
            }
            while (weight < _maxGroupSize && _pending.Reader.TryRead(out var next))
            {
                var nextWeight = _weight(next.Item);
                if (group.Count > 0 && weight + nextWeight > _maxGroupSize)
                {
                    // The next group starts with it: a group stays within its size and keeps the asked order.
                    carried = next;
                    break;
                }
                group.Add(next);
                items.Add(next.Item);
                weight += nextWeight;
            }
            if (group.Count == 0) continue;
            await WriteGroupAsync(group, items);
        }
    }

    private async Task WriteGroupAsync(List<Pending> group, List<T> items)
    {
        try
        {
            await _write(items);
            foreach (var written in group) written.Written.TrySetResult();
        }
        catch (Exception) when (group.Count > 1)
        {
            // Alone, each item succeeds or fails on its own merits.
            foreach (var pending in group)
            {
                try
                {
                    await _write([pending.Item]);
                    pending.Written.TrySetResult();
                }
                catch (Exception e)
                {
                    pending.Written.TrySetException(e);
                }
            }
        }
        catch (Exception e)
        {
            group[0].Written.TrySetException(e);
        }
    }

    /// <summary>Stops taking writes and waits for the ones already asked for.</summary>
    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer;
    }

    private sealed record Pending(T Item, TaskCompletionSource Written);
}

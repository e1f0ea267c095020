using PatientConnect.Grains.Common;

namespace PatientConnect.Grains.Tests;

/// <summary>The silo's group-commit queue (outbox appends, refresh due times) on a recording writer.</summary>
public sealed class GroupCommitTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Callers_asking_at_once_share_groups_in_the_asked_order_and_each_waits_for_its_own_write()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var groups = new List<int[]>();
        await using var commit = new GroupCommit<int>(async items =>
        {
            // The first write holds the writer, so the callers behind it queue up and go together.
            await gate.Task;
            lock (groups) groups.Add([.. items]);
        }, maxGroupSize: 40);

        var first = commit.WriteAsync(0, Cancel);
        var rest = Enumerable.Range(1, 99).Select(i => commit.WriteAsync(i, Cancel)).ToArray();
        await Task.Delay(50, Cancel);
        Assert.False(first.IsCompleted, "a caller must not complete before its write");
        Assert.All(rest, t => Assert.False(t.IsCompleted));

        gate.SetResult();
        await Task.WhenAll(rest.Prepend(first)).WaitAsync(TimeSpan.FromSeconds(10), Cancel);

        Assert.Equal(Enumerable.Range(0, 100), groups.SelectMany(g => g));
        Assert.True(groups.Count < 100 / 2, $"expected groups, got {groups.Count} writes for 100 callers");
        Assert.All(groups, g => Assert.True(g.Length <= 40, $"a group of {g.Length} is over the size"));
    }

    [Fact]
    public async Task A_bad_item_fails_only_its_own_caller_and_the_rest_of_its_group_is_written()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var written = new List<int>();
        await using var commit = new GroupCommit<int>(async items =>
        {
            await gate.Task;
            if (items.Contains(13)) throw new InvalidOperationException("item 13 is refused");
            lock (written) written.AddRange(items);
        }, maxGroupSize: 100);

        var calls = Enumerable.Range(0, 30).Select(i => commit.WriteAsync(i, Cancel)).ToArray();
        gate.SetResult();
        var bad = await Assert.ThrowsAsync<InvalidOperationException>(() => calls[13]);
        Assert.Equal("item 13 is refused", bad.Message);
        await Task.WhenAll(calls.Where((_, i) => i != 13)).WaitAsync(TimeSpan.FromSeconds(10), Cancel);

        Assert.Equal(Enumerable.Range(0, 30).Where(i => i != 13), written.Order());
    }

    [Fact]
    public async Task Weights_bound_a_group_and_an_item_heavier_than_the_bound_goes_alone()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var groups = new List<string[]>();
        await using var commit = new GroupCommit<string>(async items =>
        {
            await gate.Task;
            lock (groups) groups.Add([.. items]);
        }, maxGroupSize: 10, weight: s => s.Length);

        var calls = new[] { "a", "bbbb", "cccc", "ddd", "eeeeeeeeeeeeeeee", "ff", "g" }.Select(s => commit.WriteAsync(s, Cancel)).ToArray();
        gate.SetResult();
        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10), Cancel);

        Assert.Equal(["a", "bbbb", "cccc", "ddd", "eeeeeeeeeeeeeeee", "ff", "g"], groups.SelectMany(g => g));
        Assert.All(groups, g => Assert.True(g.Length == 1 || g.Sum(s => s.Length) <= 10, $"group [{string.Join(",", g)}] is over the bound"));
        Assert.Contains(groups, g => g is ["eeeeeeeeeeeeeeee"]);
    }

    [Fact]
    public async Task Disposing_waits_for_the_writes_already_asked_for_and_refuses_new_ones()
    {
        var written = 0;
        var commit = new GroupCommit<int>(async items =>
        {
            await Task.Delay(20);
            Interlocked.Add(ref written, items.Count);
        }, maxGroupSize: 5);
        var calls = Enumerable.Range(0, 12).Select(i => commit.WriteAsync(i, Cancel)).ToArray();

        await commit.DisposeAsync();

        // Every write asked for before was made by the time disposing returns, and each caller learns it.
        Assert.Equal(12, written);
        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10), Cancel);
        Assert.Throws<ObjectDisposedException>(() => { _ = commit.WriteAsync(99, Cancel); });
    }
}

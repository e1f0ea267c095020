using PatientConnect.Grains.Refresh;

namespace PatientConnect.Grains.Tests;

/// <summary>What a scheduler claims from the plan: due refreshes first, then (with slots left) those whose early start passed.</summary>
public sealed class RefreshScheduleClaimTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Lease = Now.AddMinutes(1);

    private static async Task<InMemoryRefreshSchedule> PlanAsync()
    {
        var schedule = new InMemoryRefreshSchedule();
        await schedule.SetAsync("overdue", Now.AddSeconds(-30), Now.AddSeconds(-90));
        await schedule.SetAsync("due-now", Now, Now);
        await schedule.SetAsync("early-started", Now.AddSeconds(40), Now.AddSeconds(-20));
        await schedule.SetAsync("early-later", Now.AddSeconds(20), Now.AddSeconds(10));
        await schedule.SetAsync("not-early", Now.AddSeconds(30), Now.AddSeconds(30));
        return schedule;
    }

    [Fact]
    public async Task Due_refreshes_come_first_then_those_whose_early_start_passed_and_nothing_before_its_early_start()
    {
        var schedule = await PlanAsync();

        var claimed = await schedule.ClaimAsync(Now, Lease, 10, TestContext.Current.CancellationToken);

        Assert.Equal(["overdue", "due-now", "early-started"], claimed.Select(c => c.ConnectionId));
        // The plan, not the early start, is what the lag is measured against.
        Assert.Equal(Now.AddSeconds(40), claimed[2].DueAt);
        // Claimed rows are leased: hidden from every look until the lease ends.
        Assert.Equal(Lease, schedule.DueAt("early-started"));
        Assert.Empty(await schedule.ClaimAsync(Now, Lease, 10, TestContext.Current.CancellationToken));
        Assert.Equal(Now.AddSeconds(20), schedule.DueAt("early-later"));
    }

    [Fact]
    public async Task Without_free_slots_for_them_early_refreshes_wait_behind_the_due_ones()
    {
        var schedule = await PlanAsync();

        var claimed = await schedule.ClaimAsync(Now, Lease, 2, TestContext.Current.CancellationToken);

        Assert.Equal(["overdue", "due-now"], claimed.Select(c => c.ConnectionId));
        Assert.Equal(Now.AddSeconds(40), schedule.DueAt("early-started"));
    }

    [Fact]
    public async Task An_early_start_after_the_plan_is_the_plan()
    {
        var schedule = new InMemoryRefreshSchedule();
        await schedule.SetAsync("c", Now.AddSeconds(10), Now.AddSeconds(20));

        Assert.Equal(Now.AddSeconds(10), schedule.EarlyAt("c"));
    }
}

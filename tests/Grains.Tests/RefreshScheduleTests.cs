using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using PatientConnect.Connections;
using PatientConnect.Grains.Refresh;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Tests;

/// <summary>The refresh schedule a connection keeps: one row aimed at expiry − margin while it is active, none once it stops.</summary>
public sealed class RefreshScheduleTests(ClusterFixture f)
{
    private const string A = ClusterFixture.TenantA;

    private InMemoryRefreshSchedule Schedule =>
        ((InProcessSiloHandle)f.Cluster.Primary!).SiloHost.Services.GetRequiredService<InMemoryRefreshSchedule>();

    /// <summary>expires_at − margin, the margin (RefreshOptions defaults) a fifth of the token's lifetime, between 5 s and 5 min.</summary>
    private static DateTimeOffset PlannedRefresh(ConnectionView connection)
    {
        var expires = connection.AccessExpiresAt!.Value;
        var lifetime = expires - (connection.LastRefreshedAt ?? connection.ConnectedAt!.Value);
        var margin = TimeSpan.FromTicks(Math.Clamp((long)(lifetime.Ticks * 0.2), TimeSpan.FromSeconds(5).Ticks, TimeSpan.FromMinutes(5).Ticks));
        return expires - margin;
    }

    [Fact]
    public async Task Active_connection_is_planned_before_its_token_lapses_and_leaves_the_plan_when_disconnected()
    {
        var riverside = f.SourceId("riverside");
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId(), riverside);
        var outcome = await f.Grains.GetGrain<IPatientSessionGrain>(session.Id).CompleteCallback(await f.ApproveAsync(session.Id, riverside, "fhir-9"));
        var connectionId = TestData.QueryOf(outcome.RedirectUrl!)["connection_id"];
        var grain = f.Grains.GetGrain<IConnectionGrain>(connectionId);
        var connection = (await grain.Get(A))!;

        Assert.Equal(PlannedRefresh(connection), Schedule.DueAt(connectionId));

        // Woken (before it is due, unless another test moved the shared clock past it): the plan still
        // matches the token in force afterwards.
        await grain.RefreshDue();
        Assert.Equal(PlannedRefresh((await grain.Get(A))!), Schedule.DueAt(connectionId));

        await grain.Disconnect(A, deleteRecords: false);
        Assert.Null(Schedule.DueAt(connectionId));
    }
}

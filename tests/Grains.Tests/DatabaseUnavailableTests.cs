using Npgsql;
using PatientConnect.Resilience;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Tests;

/// <summary>The database away reaches callers as one typed, serializable, retryable error.</summary>
public sealed class DatabaseUnavailableTests(ClusterFixture f)
{
    [Fact]
    public async Task An_npgsql_failure_in_a_grain_reaches_the_caller_as_ServiceUnavailableException()
    {
        var session = await f.CreateSessionAsync(ClusterFixture.TenantA, TestData.NewPatientId());
        // More failures than the caller's retries absorb: the caller sees the typed error, not a codec failure.
        using (FaultInjection.Fail("IPatientSessionGrain.BeginConnect", 1000, () => new NpgsqlException("connection refused")))
        {
            var error = await Assert.ThrowsAsync<ServiceUnavailableException>(
                () => f.Grains.GetGrain<IPatientSessionGrain>(session.Id).BeginConnect(f.SourceId("riverside")));
            Assert.DoesNotContain("connection refused", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_retryable_call_rides_out_a_short_outage()
    {
        var session = await f.CreateSessionAsync(ClusterFixture.TenantA, TestData.NewPatientId());
        // Two failed attempts, then the database is back: the [Retryable] read succeeds for the caller.
        using (FaultInjection.Fail("IPatientSessionGrain.GetConnectPage", 2, () => new NpgsqlException("connection refused")))
        {
            var page = await f.Grains.GetGrain<IPatientSessionGrain>(session.Id).GetConnectPage();
            Assert.Equal(session.Id, page?.SessionId);
        }
    }

    [Fact]
    public void Statement_errors_are_not_mistaken_for_an_outage()
    {
        Assert.True(Resilience.TransientFailures.IsDatabaseUnavailable(new InvalidOperationException("x", new NpgsqlException("down"))));
        Assert.False(Resilience.TransientFailures.IsDatabaseUnavailable(new PostgresException("duplicate key", "ERROR", "ERROR", "23505")));
        Assert.True(Resilience.TransientFailures.IsDatabaseUnavailable(new PostgresException("terminating connection", "FATAL", "FATAL", "57P01")));
        Assert.False(Resilience.TransientFailures.IsDatabaseUnavailable(new InvalidOperationException("bug")));
    }
}

using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PatientConnect.Silo.Health;

/// <summary>
/// Ready only while this silo is an active member in its own view of the membership table: joining,
/// shutting down, or declared dead by the others (a silo that cannot reach the table long enough) is not.
/// </summary>
public sealed class ClusterMemberHealthCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy()
            : new HealthCheckResult(context.Registration.FailureStatus, $"Silo status is {status}."));
    }
}

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace PatientConnect.ServiceDefaults;

/// <summary>
/// "select 1" on a data source of its own with short timeouts, so a readiness probe answers within
/// seconds when Postgres is gone instead of waiting out the application's pool and command timeouts.
/// </summary>
public sealed class PostgresHealthCheck : IHealthCheck, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    public PostgresHealthCheck(string connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Timeout = 3,
            CommandTimeout = 3,
            // One connection is plenty for a probe; it must not take slots from the application.
            MaxPoolSize = 2,
        };
        _dataSource = NpgsqlDataSource.Create(csb.ConnectionString);
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = _dataSource.CreateCommand("select 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or IOException or InvalidOperationException)
        {
            // The exception stays in the process (it may name hosts); the probe answer only says "failed".
            return new HealthCheckResult(context.Registration.FailureStatus, "Postgres does not answer.", e);
        }
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}

namespace PatientConnect.Api.Hosting;

/// <summary>
/// The Api may start before any silo (docker-compose, run.sh): keep trying to reach the cluster
/// instead of exiting; /health/ready answers 503 meanwhile.
/// </summary>
public sealed partial class ClusterConnectRetryFilter(ILogger<ClusterConnectRetryFilter> logger) : IClientConnectionRetryFilter
{
    private int _attempt;

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        var attempt = Interlocked.Increment(ref _attempt);
        LogRetry(logger, attempt, exception.Message);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster not reachable yet (attempt {Attempt}): {Reason}; retrying")]
    private static partial void LogRetry(ILogger logger, int attempt, string reason);
}

using Microsoft.Extensions.Logging;
using PatientConnect.Sync;

namespace PatientConnect.Grains.Sync;

/// <summary>
/// Outermost handler of the FHIR HttpClient: before a request leaves, the source's
/// <see cref="ISourceRateGrain"/> gives it a send time, so the rate holds across all silos together.
/// </summary>
public sealed partial class SourceRateLimitHandler(IGrainFactory grains, ILogger<SourceRateLimitHandler> logger) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var source = request.RequestUri!.Authority.ToLowerInvariant();
        TimeSpan wait;
        try
        {
            wait = await grains.GetGrain<ISourceRateGrain>(source).Reserve().WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The budget's silo is going away: a sync must not fail for it. The next call reaches the
            // grain's new activation; meanwhile this one request goes unpaced.
            LogBudgetUnavailable(logger, source, e.GetType().Name);
            wait = TimeSpan.Zero;
        }
        if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken);
        return await base.SendAsync(request, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate budget of {Source} unavailable ({Kind}); request sent unpaced")]
    private static partial void LogBudgetUnavailable(ILogger logger, string source, string kind);
}

using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace PatientConnect.Resilience;

/// <summary>
/// Retries a <see cref="RetryableAttribute">[Retryable]</see> grain call that failed for a cluster
/// reason, until it succeeds or <see cref="Budget"/> has passed since the first attempt. Installed on
/// the Api's cluster client and on every silo (grain-to-grain calls), so a silo that dies or leaves
/// mid-call costs the caller a short delay while the cluster moves the grain, not a 503.
/// </summary>
/// <remarks>
/// Orleans hands a failed response back as <see cref="IOutgoingGrainCallContext.Response"/> rather than
/// throwing from <c>Invoke()</c>, and allows <c>Invoke()</c> again from the same filter (its pipeline
/// stage is restored after each call): both are relied on here.
/// </remarks>
// Real time on purpose, not an injected TimeProvider: tests that move a manual clock must not stall
// or skip the waits between attempts, which are about the cluster settling, not about domain time.
public sealed partial class ClusterCallRetryFilter(ILogger<ClusterCallRetryFilter> logger) : IOutgoingGrainCallFilter
{
    /// <summary>No attempt starts later than this after the first one.</summary>
    public static TimeSpan Budget { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>
    /// The database being away gets a shorter budget: a blip is ridden out, an outage is answered 503
    /// promptly (the caller's own retry after Retry-After beats holding every request for 8 s).
    /// </summary>
    public static TimeSpan DatabaseBudget { get; set; } = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);
    private static readonly ConcurrentDictionary<MethodInfo, bool> RetryableMethods = new();

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.InterfaceMethod is not { } method || !IsRetryable(method))
        {
            await context.Invoke();
            return;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            Exception? failure;
            try
            {
                await context.Invoke();
                failure = context.Response?.Exception;
            }
            catch (Exception e)
            {
                failure = e;
            }
            var budget = FindDatabaseUnavailable(failure) is null ? Budget : DatabaseBudget;
            if (failure is null || !IsTransient(failure) || System.Diagnostics.Stopwatch.GetElapsedTime(started) + delay > budget)
            {
                if (failure is not null && context.Response?.Exception is null) throw failure;
                return;
            }
            LogRetry(logger, context.InterfaceName, context.MethodName, attempt, failure.GetType().Name);
            // Jitter spreads the retries of many callers that failed in the same instant.
            await Task.Delay(delay * (0.5 + Random.Shared.NextDouble()));
            delay = delay * 2 > MaxDelay ? MaxDelay : delay * 2;
        }
    }

    private static bool IsRetryable(MethodInfo method) =>
        RetryableMethods.GetOrAdd(method, m => m.GetCustomAttribute<RetryableAttribute>() is not null);

    /// <summary>
    /// Failures that say "the cluster could not run this call now", never "the call was wrong": a dead or
    /// leaving silo, a rejected or timed-out message, a database that did not answer.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException
            or GatewayTooBusyException or TimeoutException or ServiceUnavailableException => true,
        // "Message expired before placement could complete": the grain's silo was being replaced.
        // Our calls carry no cancellation token of their own, so a cancellation here is the cluster's.
        OperationCanceledException => true,
        AggregateException { InnerExceptions: [var inner] } => IsTransient(inner),
        // Orleans wraps a grain's failed activation (its state could not be read) around the cause.
        _ => FindDatabaseUnavailable(exception) is not null,
    };

    /// <summary>The <see cref="ServiceUnavailableException"/> in <paramref name="exception"/>'s chain, if any.</summary>
    public static ServiceUnavailableException? FindDatabaseUnavailable(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is ServiceUnavailableException unavailable) return unavailable;
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Interface}.{Method}: attempt {Attempt} failed ({Reason}); retrying")]
    private static partial void LogRetry(ILogger logger, string @interface, string method, int attempt, string reason);
}

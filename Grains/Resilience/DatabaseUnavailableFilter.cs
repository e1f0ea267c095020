using Microsoft.Extensions.Logging;
using PatientConnect.Resilience;

namespace PatientConnect.Grains.Resilience;

/// <summary>
/// Every grain call whose failure is the database being away (grain state, reminders, our own tables)
/// ends in <see cref="ServiceUnavailableException"/>, which crosses the grain boundary and becomes a
/// 503 with Retry-After in the Api. Without it the Npgsql exception could not be serialized and the
/// caller saw a codec error and answered 500.
/// </summary>
public sealed partial class DatabaseUnavailableFilter(ILogger<DatabaseUnavailableFilter> logger) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception e) when (e is not ServiceUnavailableException && TransientFailures.IsDatabaseUnavailable(e))
        {
            LogUnavailable(logger, context.InterfaceName, context.MethodName, e.GetType().Name);
            throw TransientFailures.Unavailable("grain call", e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Interface}.{Method}: database unavailable ({Kind})")]
    private static partial void LogUnavailable(ILogger logger, string @interface, string method, string kind);
}

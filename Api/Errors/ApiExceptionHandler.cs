using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Orleans.Runtime;
using PatientConnect.Common;
using PatientConnect.Resilience;

namespace PatientConnect.Api.Errors;

/// <summary>
/// The last line: an exception becomes a problem, never a stack trace. Cluster trouble is 503
/// (retryable); a grain's <see cref="InvalidFieldException"/> is a 400 naming its field.
/// </summary>
public sealed partial class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (httpContext.Response.HasStarted) return false;

        ProblemHttpResult result;
        switch (exception)
        {
            case BadHttpRequestException bad:
                result = bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? Problems.PayloadTooLarge(httpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? 0)
                    : TypedResults.Problem(Problems.Create(bad.StatusCode, "bad-request", "bad_request", "Bad request.", bad.Message));
                break;
            case InvalidFieldException invalid:
                // A grain refused a request value (a cursor it did not issue): the field is a member, not parsed from text.
                result = Problems.Validation(invalid.Field, invalid.Reason);
                break;
            case ArgumentException notConnected when notConnected.Message.StartsWith("Could not find an implementation for interface", StringComparison.Ordinal):
                // The client has no cluster manifest yet (no silo reached since start) or no silo hosts the grain.
                LogClusterUnavailable(logger, httpContext.Request.Path, "no silo reached yet");
                httpContext.Response.Headers.RetryAfter = "1";
                result = Unavailable();
                break;
            case OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested:
                // The client went away; nobody reads the answer.
                return true;
            case OperationCanceledException:
                // Not the client's: the cluster gave up placing the grain (its silo was being replaced).
                LogClusterUnavailable(logger, httpContext.Request.Path, exception.GetType().Name);
                httpContext.Response.Headers.RetryAfter = "1";
                result = Unavailable();
                break;
            case Exception when ClusterCallRetryFilter.FindDatabaseUnavailable(exception) is not null:
                // The database is away: expected during an outage, so one line without a stack trace
                // (an outage of 15 s under load must not write megabytes of log).
                LogDatabaseUnavailable(logger, httpContext.Request.Path);
                httpContext.Response.Headers.RetryAfter = "2";
                result = Unavailable();
                break;
            case SiloUnavailableException or OrleansMessageRejectionException or TimeoutException
                or GatewayTooBusyException or ClientNotAvailableException or Orleans.Runtime.Messaging.ConnectionFailedException:
                // Only reached once the retry filter's budget is spent, or for calls that are not safe to repeat.
                LogClusterUnavailable(logger, httpContext.Request.Path, exception.GetType().Name);
                httpContext.Response.Headers.RetryAfter = "1";
                result = Unavailable();
                break;
            default:
                LogUnhandled(logger, exception, httpContext.Request.Path);
                result = TypedResults.Problem(Problems.Create(StatusCodes.Status500InternalServerError, "internal",
                    "internal_error", "An unexpected error occurred.", null));
                break;
        }

        if (IsPatientPage(httpContext.Request.Path))
        {
            // The patient's browser gets a page, not JSON.
            var status = result.StatusCode;
            httpContext.Response.StatusCode = status;
            httpContext.Response.Headers.CacheControl = "no-store";
            httpContext.Response.ContentType = "text/html; charset=utf-8";
            var text = Connect.PageText.Choose(httpContext, null);
            var busy = status == StatusCodes.Status503ServiceUnavailable;
            await httpContext.Response.WriteAsync(Connect.ConnectHtml.MessagePage(text,
                busy ? text.BusyTitle : text.FailedTitle, busy ? text.BusyMessage : text.FailedMessage, null), cancellationToken);
            return true;
        }

        await result.ExecuteAsync(httpContext);
        return true;
    }

    private static bool IsPatientPage(PathString path) =>
        path.StartsWithSegments("/connect", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/oauth", StringComparison.OrdinalIgnoreCase);

    private static ProblemHttpResult Unavailable() =>
        TypedResults.Problem(Problems.Create(StatusCodes.Status503ServiceUnavailable, "unavailable",
            "service_unavailable", "The service is temporarily unavailable.", "Retry the request shortly."));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster unavailable while serving {Path}: {Reason}")]
    private static partial void LogClusterUnavailable(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database unavailable while serving {Path}")]
    private static partial void LogDatabaseUnavailable(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception while serving {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string path);
}

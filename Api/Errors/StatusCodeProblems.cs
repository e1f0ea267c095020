using Microsoft.AspNetCore.Diagnostics;

namespace PatientConnect.Api.Errors;

/// <summary>Bodies for answers that reached the end of the pipeline empty (unknown route, wrong method).</summary>
public static class StatusCodeProblems
{
    public static Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var (slug, code, title) = Describe(status);
        var detail = status switch
        {
            StatusCodes.Status404NotFound => $"No resource at {http.Request.Path}.",
            StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}.",
            StatusCodes.Status415UnsupportedMediaType => "Send the body as application/json.",
            _ => null,
        };
        return TypedResults.Problem(Problems.Create(status, slug, code, title, detail)).ExecuteAsync(http);
    }

    public static (string Slug, string Code, string Title) Describe(int status) => status switch
    {
        400 => ("bad-request", "bad_request", "Bad request."),
        401 => ("unauthorized", "unauthorized", "Authentication required."),
        403 => ("forbidden", "forbidden", "Forbidden."),
        404 => ("not-found", "not_found", "Not found."),
        405 => ("method-not-allowed", "method_not_allowed", "Method not allowed."),
        406 => ("not-acceptable", "not_acceptable", "Not acceptable."),
        409 => ("conflict", "conflict", "Conflict."),
        413 => ("payload-too-large", "payload_too_large", "The request body is too large."),
        415 => ("unsupported-media-type", "unsupported_media_type", "Unsupported media type."),
        422 => ("unprocessable", "unprocessable", "Unprocessable request."),
        429 => ("rate-limited", "rate_limited", "Too many requests."),
        503 => ("unavailable", "service_unavailable", "The service is temporarily unavailable."),
        >= 500 => ("internal", "internal_error", "An unexpected error occurred."),
        _ => ("http-" + status, "http_" + status, "HTTP " + status + "."),
    };
}

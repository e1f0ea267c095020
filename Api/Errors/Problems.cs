using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace PatientConnect.Api.Errors;

/// <summary>
/// Every error the API answers, as RFC 9457 problem details with a stable <c>type</c> and a
/// <c>code</c> extension. Clients branch on <c>code</c>; the type URI documents it.
/// </summary>
public static class Problems
{
    public const string TypeBase = "https://patientconnect.dev/problems/";

    public static ProblemHttpResult Validation(string field, string message) =>
        Validation([new FieldError(field, message)]);

    /// <summary>400 naming every refused field; <c>field</c> is the first, for clients that show one.</summary>
    public static ProblemHttpResult Validation(IReadOnlyList<FieldError> errors)
    {
        var first = errors[0];
        var problem = Create(StatusCodes.Status400BadRequest, "validation", "validation_error",
            "The request has an invalid field.", $"{first.Field}: {first.Message}");
        problem.Extensions["field"] = first.Field;
        problem.Extensions["errors"] = errors
            .GroupBy(e => e.Field, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray(), StringComparer.Ordinal);
        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult MalformedJson(string detail) =>
        TypedResults.Problem(Create(StatusCodes.Status400BadRequest, "malformed-json", "malformed_json",
            "The request body is not valid JSON.", detail));

    public static ProblemHttpResult UnsupportedMediaType() =>
        TypedResults.Problem(Create(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "unsupported_media_type",
            "Unsupported media type.", "Send the body as application/json."));

    public static ProblemHttpResult PayloadTooLarge(long limit) =>
        TypedResults.Problem(Create(StatusCodes.Status413PayloadTooLarge, "payload-too-large", "payload_too_large",
            "The request body is too large.", $"The body may not exceed {limit} bytes."));

    /// <summary>Missing and foreign objects answer alike, so ids of other tenants cannot be probed.</summary>
    public static ProblemHttpResult NotFound(string what, string id) =>
        TypedResults.Problem(Create(StatusCodes.Status404NotFound, "not-found", "not_found",
            "Not found.", $"No {what} with id '{id}'."));

    /// <summary>A grain's refusal as HTTP: the kind picks the status, the grain's code, title and detail are copied.</summary>
    public static ProblemHttpResult Refused(Common.Refusal refusal) =>
        TypedResults.Problem(Create(refusal.Kind switch
            {
                Common.RefusalKind.NotFound => StatusCodes.Status404NotFound,
                Common.RefusalKind.Conflict => StatusCodes.Status409Conflict,
                _ => StatusCodes.Status400BadRequest,
            }, refusal.Code.Replace('_', '-'), refusal.Code, refusal.Title, refusal.Detail));

    public static ProblemHttpResult IdempotencyKeyReused() =>
        TypedResults.Problem(Create(StatusCodes.Status422UnprocessableEntity, "idempotency-key-reused", "idempotency_key_reused",
            "Idempotency-Key reused with a different request.",
            "This Idempotency-Key was first used with a different request body. Use a new key for a new request."));

    public static ProblemHttpResult IdempotencyKeyInProgress() =>
        TypedResults.Problem(Create(StatusCodes.Status409Conflict, "idempotency-key-in-progress", "idempotency_key_in_progress",
            "A request with this Idempotency-Key is still in progress.",
            "Retry after the first request has finished."));

    /// <summary>Builds a problem whose type is <see cref="TypeBase"/> + <paramref name="slug"/>.</summary>
    public static ProblemDetails Create(int status, string slug, string code, string title, string? detail)
    {
        var problem = new ProblemDetails
        {
            Type = TypeBase + slug,
            Title = title,
            Status = status,
            Detail = detail,
        };
        problem.Extensions["code"] = code;
        return problem;
    }
}

public sealed record FieldError(string Field, string Message);

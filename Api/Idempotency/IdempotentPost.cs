using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Hosting;
using PatientConnect.Idempotency;

namespace PatientConnect.Api.Idempotency;

/// <summary>What a POST handler produced: something created (stored for replay) or a refusal.</summary>
public abstract record PostOutcome
{
    private PostOutcome() { }

    /// <summary>The request took effect; its answer is stored and replayed for the same key and body.</summary>
    public sealed record Done(int StatusCode, object Body, string? Location) : PostOutcome;

    /// <summary>Nothing was created; the refusal is stored and replayed like a success, for the same key and body.</summary>
    public sealed record Refused(ProblemHttpResult Problem) : PostOutcome;
}

/// <summary>
/// <c>Idempotency-Key</c> for every POST. The key is claimed in its grain before the handler runs,
/// so two concurrent retries cannot both create. Decisions:
/// <list type="bullet">
/// <item>The first answer is the answer: a creation (2xx) and a refusal by the domain (4xx, e.g. a
/// source that cannot be connected) are both stored and replayed for the same key and body, so a retry
/// never turns a refusal into a creation behind the client's back. A corrected request needs a new key
/// (the same key with another body is 422). Requests refused before they ran (malformed JSON, invalid
/// fields, a bad key) claim nothing.</item>
/// <item>An exception also releases the claim. If the cluster created the object and the answer was
/// lost on the way back, a retry can create a second one; the alternative (keeping the claim) would
/// block the key until it expires, which is worse for a client that followed the rules.</item>
/// <item>The request hash covers method, path and raw body bytes: the same key on another endpoint is
/// a different request (422).</item>
/// </list>
/// </summary>
public static partial class IdempotentPost
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayedHeaderName = "Idempotent-Replayed";
    public const int MaxKeyLength = 255;

    public static async Task<IResult> RunAsync(
        HttpContext http, IClusterClient cluster, TimeProvider time, string tenantId, byte[] rawBody,
        Func<Task<PostOutcome>> handler)
    {
        var headerValues = http.Request.Headers[HeaderName];
        if (headerValues.Count == 0) return ToResult(await handler(), http);

        var key = headerValues.Count == 1 ? headerValues[0] : null;
        if (string.IsNullOrEmpty(key) || key.Length > MaxKeyLength || key.Any(c => c is < ' ' or > '~'))
        {
            return Problems.Validation(HeaderName, $"must be a single value of 1 to {MaxKeyLength} printable ASCII characters.");
        }

        var grain = cluster.GetGrain<IIdempotencyGrain>($"{tenantId}/{Sha256Hex(Encoding.UTF8.GetBytes(key))}");
        var requestHash = RequestHash(http.Request, rawBody);
        // One claim id per request: the claim is retried safely if a silo is lost under it.
        var stored = await grain.TryClaim(requestHash, Guid.NewGuid().ToString("N"));
        if (stored is not null)
        {
            if (!string.IsNullOrEmpty(stored.RequestHash) && !string.Equals(stored.RequestHash, requestHash, StringComparison.Ordinal))
                return Problems.IdempotencyKeyReused();
            if (stored.StatusCode == 0)
            {
                // The first request is still running (a create takes milliseconds): come back in a second.
                http.Response.Headers.RetryAfter = "1";
                return Problems.IdempotencyKeyInProgress();
            }
            http.Response.Headers[ReplayedHeaderName] = "true";
            if (stored.Refusal && JsonSerializer.Deserialize<ProblemDetails>(stored.BodyJson) is { } refusal)
            {
                // Through the problem details service again: this request's instance and trace id.
                refusal.Instance = null;
                refusal.Extensions.Remove("trace_id");
                return TypedResults.Problem(refusal);
            }
            return Stored(stored.StatusCode, stored.BodyJson, stored.Location, http);
        }

        PostOutcome outcome;
        try
        {
            outcome = await handler();
        }
        catch
        {
            await TryRelease(grain, http);
            throw;
        }

        switch (outcome)
        {
            case PostOutcome.Done done:
                var json = JsonSerializer.Serialize(done.Body, done.Body.GetType(), PatientConnect.Contract.ContractJson.Options);
                try
                {
                    await grain.Complete(new IdempotentResponse(requestHash, done.StatusCode, json, done.Location, time.GetUtcNow()));
                }
                catch (Exception e)
                {
                    // The object exists: answering with it beats a 5xx that invites a duplicate.
                    LogCompleteFailed(Logger(http), e);
                }
                return Stored(done.StatusCode, json, done.Location, http);
            case PostOutcome.Refused refused:
                var problem = JsonSerializer.Serialize(refused.Problem.ProblemDetails);
                try
                {
                    await grain.Complete(new IdempotentResponse(requestHash, refused.Problem.StatusCode, problem, null, time.GetUtcNow(), Refusal: true));
                }
                catch (Exception e)
                {
                    // Nothing was created: releasing the key is safe, and better than answering 5xx.
                    LogCompleteFailed(Logger(http), e);
                    await TryRelease(grain, http);
                }
                return refused.Problem;
            default:
                throw new InvalidOperationException("Unknown outcome " + outcome.GetType().Name);
        }
    }

    private static IResult ToResult(PostOutcome outcome, HttpContext http) => outcome switch
    {
        PostOutcome.Done done => Stored(done.StatusCode,
            JsonSerializer.Serialize(done.Body, done.Body.GetType(), PatientConnect.Contract.ContractJson.Options), done.Location, http),
        PostOutcome.Refused refused => refused.Problem,
        _ => throw new InvalidOperationException("Unknown outcome " + outcome.GetType().Name),
    };

    private static IResult Stored(int statusCode, string json, string? location, HttpContext http)
    {
        if (location is not null) http.Response.Headers.Location = location;
        return TypedResults.Text(json, "application/json; charset=utf-8", Encoding.UTF8, statusCode);
    }

    private static string RequestHash(HttpRequest request, byte[] rawBody)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.Path}\n"));
        hash.AppendData(rawBody);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string Sha256Hex(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static async Task TryRelease(IIdempotencyGrain grain, HttpContext http)
    {
        try
        {
            await grain.Release();
        }
        catch (Exception e)
        {
            LogReleaseFailed(Logger(http), e);
        }
    }

    private static ILogger Logger(HttpContext http) =>
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(IdempotentPost).FullName!);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing an idempotent response failed; the answer is given anyway")]
    private static partial void LogCompleteFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing an idempotency claim failed; the key stays claimed until it expires")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception);
}

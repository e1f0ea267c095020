using System.Net;
using System.Net.Http.Headers;

namespace PatientConnect.Grains.Sync;

/// <summary>What one FHIR GET answered: the status and, on success, the body within the size cap.</summary>
public sealed record FhirResponse(HttpStatusCode Status, byte[]? Body, string? ContentType, bool TooLarge = false)
{
    /// <summary>The media type without parameters ("text/plain" of "text/plain; charset=utf-8").</summary>
    public string? MediaType => ContentType?.Split(';')[0].Trim().ToLowerInvariant();

    public bool Ok => (int)Status is >= 200 and < 300 && Body is not null && !TooLarge;

    /// <summary>The diagnostics of an OperationOutcome body (or the start of any other body), for notes.</summary>
    public string Describe()
    {
        var text = Body is { Length: > 0 } ? FhirPage.OutcomeText(Body) : null;
        return text is null ? $"HTTP {(int)Status}" : $"HTTP {(int)Status}: {text}";
    }
}

/// <summary>
/// GETs against a source's FHIR API through the "fhir" HttpClient (Polly: Retry-After on 429,
/// jittered backoff on 5xx and timeouts, a per-source rate limit). The caller decides where a URL may
/// go; this class only sends the token it is given to the URL it is given.
/// </summary>
public sealed class FhirClient(IHttpClientFactory httpClientFactory)
{
    public const string HttpClientName = "fhir";
    public const string FhirJson = "application/fhir+json";

    public async Task<FhirResponse> GetAsync(Uri url, string? accessToken, string accept, long maxBytes, CancellationToken cancellationToken)
    {
        var http = httpClientFactory.CreateClient(HttpClientName);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd(accept);
        if (accessToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var contentType = response.Content.Headers.ContentType?.ToString();
        if (response.Content.Headers.ContentLength is { } length && length > maxBytes)
        {
            return new FhirResponse(response.StatusCode, null, contentType, TooLarge: true);
        }
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes) return new FhirResponse(response.StatusCode, null, contentType, TooLarge: true);
            buffer.Write(chunk, 0, read);
        }
        return new FhirResponse(response.StatusCode, buffer.ToArray(), contentType);
    }
}

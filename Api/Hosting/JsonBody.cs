using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using PatientConnect.Api.Errors;

namespace PatientConnect.Api.Hosting;

/// <summary>
/// Reads a POST body as raw bytes (kept for the idempotency hash) and parses it as a JSON object,
/// so each field can be checked on its own instead of failing as a whole in model binding.
/// </summary>
public static class JsonBody
{
    public const int MaxBytes = 64 * 1024;

    public sealed record Read(byte[] Raw, JsonDocument Document);

    public static async Task<(Read? Body, ProblemHttpResult? Problem)> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(request.ContentType) && !IsJson(request.ContentType))
            return (null, Problems.UnsupportedMediaType());
        if (request.ContentLength > MaxBytes) return (null, Problems.PayloadTooLarge(MaxBytes));

        var raw = await ReadBoundedAsync(request.Body, cancellationToken);
        if (raw is null) return (null, Problems.PayloadTooLarge(MaxBytes));
        if (raw.Length == 0 || raw.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
            return (null, Problems.MalformedJson("The request body is empty; send a JSON object."));

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(raw, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            // The parser's message names the line and byte position, never the content.
            return (null, Problems.MalformedJson(e.Message));
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            return (null, Problems.Validation("body", "must be a JSON object."));
        }
        if (JsonText.FirstInvalidField(raw) is { } field)
        {
            document.Dispose();
            return (null, Problems.Validation(field, JsonText.Problem));
        }
        return (new Read(raw, document), null);
    }

    private static bool IsJson(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));

    /// <summary>The body, or null when it is longer than <see cref="MaxBytes"/> (chunked bodies have no length up front).</summary>
    private static async Task<byte[]?> ReadBoundedAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxBytes + 1);
        try
        {
            var total = 0;
            while (true)
            {
                var read = await body.ReadAsync(buffer.AsMemory(total, MaxBytes + 1 - total), cancellationToken);
                if (read == 0) break;
                total += read;
                if (total > MaxBytes) return null;
            }
            return buffer.AsSpan(0, total).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

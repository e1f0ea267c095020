using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace PatientConnect.Grains.Smart;

/// <summary>
/// The SMART App Launch client. Not a grain: session and connection grains call it, and it holds only
/// caches (discovery documents, JWKS, signing keys). One job per file: discovery and the authorize URL
/// (SmartClient.Discovery.cs), the token service's endpoints (SmartClient.TokenEndpoint.cs), id_token
/// checks (SmartClient.IdToken.cs), client authentication (<see cref="ClientAuthentication"/>); this
/// file holds what they share (the HttpClient and reading JSON answers).
/// </summary>
public sealed partial class SmartClient(
    IHttpClientFactory httpClientFactory,
    TimeProvider timeProvider,
    ILogger<SmartClient> logger,
    Outbound.OutboundGuard? guard = null,
    Sources.SourceCatalog? catalog = null)
{
    /// <summary>The named HttpClient; it carries the standard resilience handler (see AddPatientConnectGrains).</summary>
    public const string HttpClientName = "smart";

    private readonly ClientAuthentication _clientAuthentication = new(timeProvider);

    private HttpClient Http() => httpClientFactory.CreateClient(HttpClientName);

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
        return doc.RootElement.Clone();
    }

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static string? Url(JsonElement element, string name) =>
        Str(element, name) is { } s && Uri.TryCreate(s, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? s
            : null;

    private static IReadOnlyList<string>? StrArray(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Array) return null;
        return value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToArray();
    }

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];

    internal static string HostOf(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Authority : "the health system";
}

using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace PatientConnect.Grains.Smart;

/// <summary>SMART discovery (.well-known, then the CapabilityStatement's oauth-uris), its cache and the authorize URL.</summary>
public sealed partial class SmartClient
{
    private const string OAuthUrisExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";
    private const string CapabilitiesExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities";

    // Discovery documents change rarely; a few minutes keeps a burst of patients at one hospital from
    // refetching it per click while a changed endpoint is still picked up soon.
    private static readonly TimeSpan DiscoveryTtl = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, (SmartConfiguration Config, DateTimeOffset Until)> _discovery = new(StringComparer.Ordinal);

    public async Task<SmartConfiguration> DiscoverAsync(string fhirBaseUrl, CancellationToken cancellationToken = default)
    {
        var fhirBase = fhirBaseUrl.TrimEnd('/');
        var now = timeProvider.GetUtcNow();
        if (_discovery.TryGetValue(fhirBase, out var cached) && cached.Until > now) return cached.Config;

        var config = await TryWellKnownAsync(fhirBase, cancellationToken)
                     ?? await TryMetadataAsync(fhirBase, cancellationToken)
                     ?? throw new SmartException("ehr_unavailable",
                         $"The health system's sign-in service at {HostOf(fhirBase)} did not answer SMART discovery.");
        CheckEndpoints(config);
        _discovery[fhirBase] = (config, now + DiscoveryTtl);
        return config;
    }

    /// <summary>
    /// Refuses a discovery document that would send the client's credentials, or fetch signing keys,
    /// outside the FHIR server's domain (see <see cref="Outbound.EndpointTrust"/>).
    /// </summary>
    private void CheckEndpoints(SmartConfiguration config)
    {
        if (guard is null) return;
        var vendor = catalog?.Find(Ids.SourceIdFor(config.FhirBaseUrl))?.View.Vendor;
        (string Name, string? Url)[] endpoints =
        [
            ("token endpoint", config.TokenEndpoint), ("authorization endpoint", config.AuthorizationEndpoint),
            ("revocation endpoint", config.RevocationEndpoint), ("jwks_uri", config.JwksUri),
        ];
        foreach (var (name, url) in endpoints)
        {
            if (url is null || Outbound.EndpointTrust.Check(config.FhirBaseUrl, url, vendor, guard) is not { } why) continue;
            logger.LogWarning("SMART discovery of {FhirBase} refused: its {Endpoint} {Why}", config.FhirBaseUrl, name, why);
            throw new SmartException(EndpointRefusedCode, $"The health system's SMART configuration was refused: its {name} {why}.");
        }
    }

    /// <summary>The failure code of a discovery document naming an endpoint this service will not use.</summary>
    public const string EndpointRefusedCode = "untrusted_endpoint";

    /// <summary>Forgets a cached discovery document (e.g. after its token endpoint failed).</summary>
    public void Invalidate(string fhirBaseUrl) => _discovery.TryRemove(fhirBaseUrl.TrimEnd('/'), out _);

    public static string BuildAuthorizeUrl(
        SmartConfiguration config, string clientId, string redirectUri, IReadOnlyList<string> scopes, string state, string codeChallenge) =>
        QueryHelpers.AddQueryString(config.AuthorizationEndpoint, new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = string.Join(' ', scopes),
            ["state"] = state,
            // aud binds the authorization to this FHIR server, so a token cannot be replayed elsewhere.
            ["aud"] = config.FhirBaseUrl,
            ["code_challenge"] = codeChallenge,
            ["code_challenge_method"] = PkcePair.Method,
        });

    private async Task<SmartConfiguration?> TryWellKnownAsync(string fhirBase, CancellationToken cancellationToken)
    {
        var body = await TryGetJsonAsync($"{fhirBase}/.well-known/smart-configuration", "application/json", cancellationToken);
        if (body is not { ValueKind: JsonValueKind.Object } doc) return null;
        var authorize = Url(doc, "authorization_endpoint");
        var token = Url(doc, "token_endpoint");
        if (authorize is null || token is null) return null;
        return new SmartConfiguration(
            fhirBase,
            Str(doc, "issuer"),
            authorize,
            token,
            Url(doc, "revocation_endpoint"),
            Url(doc, "jwks_uri"),
            StrArray(doc, "scopes_supported"),
            StrArray(doc, "capabilities") ?? []);
    }

    /// <summary>The older discovery: the CapabilityStatement's oauth-uris security extension.</summary>
    private async Task<SmartConfiguration?> TryMetadataAsync(string fhirBase, CancellationToken cancellationToken)
    {
        var body = await TryGetJsonAsync($"{fhirBase}/metadata", "application/fhir+json", cancellationToken);
        if (body is not { ValueKind: JsonValueKind.Object } doc || !doc.TryGetProperty("rest", out var rest) || rest.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        foreach (var r in rest.EnumerateArray())
        {
            if (!r.TryGetProperty("security", out var security) || !security.TryGetProperty("extension", out var extensions)
                || extensions.ValueKind != JsonValueKind.Array) continue;
            string? authorize = null, token = null, revoke = null;
            var capabilities = new List<string>();
            foreach (var ext in extensions.EnumerateArray())
            {
                var url = Str(ext, "url");
                if (url == CapabilitiesExtension && Str(ext, "valueCode") is { } cap) capabilities.Add(cap);
                if (url != OAuthUrisExtension || !ext.TryGetProperty("extension", out var uris) || uris.ValueKind != JsonValueKind.Array) continue;
                foreach (var uri in uris.EnumerateArray())
                {
                    var value = Url(uri, "valueUri") ?? Url(uri, "valueUrl");
                    switch (Str(uri, "url"))
                    {
                        case "authorize": authorize = value; break;
                        case "token": token = value; break;
                        case "revoke": revoke = value; break;
                    }
                }
            }
            if (authorize is not null && token is not null)
            {
                return new SmartConfiguration(fhirBase, null, authorize, token, revoke, null, null, capabilities);
            }
        }
        return null;
    }

    private async Task<JsonElement?> TryGetJsonAsync(string url, string accept, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await GetFollowingRedirectsAsync(url, accept, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogInformation("SMART discovery {Url} answered {Status}", url, (int)response.StatusCode);
                return null;
            }
            return await ReadJsonAsync(response, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("SMART discovery {Url} failed: {Kind}: {Message}", url, e.GetType().Name, e.Message);
            return null;
        }
    }

    /// <summary>
    /// The client never follows redirects by itself (a 307 on the token endpoint would re-send the code);
    /// discovery GETs may move, so they follow a few hops here, never from https down to http.
    /// </summary>
    private async Task<HttpResponseMessage> GetFollowingRedirectsAsync(string url, string accept, CancellationToken cancellationToken)
    {
        var target = new Uri(url);
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
            var response = await Http().SendAsync(request, cancellationToken);
            var status = (int)response.StatusCode;
            if (hop >= 3 || status is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is not { } location) return response;
            var next = location.IsAbsoluteUri ? location : new Uri(target, location);
            if (next.Scheme != Uri.UriSchemeHttps && !(next.Scheme == Uri.UriSchemeHttp && target.Scheme == Uri.UriSchemeHttp)) return response;
            response.Dispose();
            target = next;
        }
    }
}

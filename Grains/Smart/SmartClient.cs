using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PatientConnect.Grains.Sources;

namespace PatientConnect.Grains.Smart;

/// <summary>
/// The SMART App Launch client: discovery, the authorize URL, the code exchange and id_token checks.
/// Not a grain: session grains call it, and it holds only caches (discovery documents, JWKS, keys).
/// </summary>
public sealed class SmartClient(
    IHttpClientFactory httpClientFactory,
    TimeProvider timeProvider,
    ILogger<SmartClient> logger,
    Outbound.OutboundGuard? guard = null,
    Sources.SourceCatalog? catalog = null)
{
    /// <summary>The named HttpClient; it carries the standard resilience handler (see AddPatientConnectGrains).</summary>
    public const string HttpClientName = "smart";

    private const string OAuthUrisExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";
    private const string CapabilitiesExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities";

    // Discovery documents change rarely; a few minutes keeps a burst of patients at one hospital from
    // refetching it per click while a changed endpoint is still picked up soon.
    private static readonly TimeSpan DiscoveryTtl = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan JwksTtl = TimeSpan.FromMinutes(10);

    // Short-lived: the token endpoint receives the assertion seconds later (SMART asks for ≤ 5 minutes).
    private static readonly TimeSpan AssertionLifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, (SmartConfiguration Config, DateTimeOffset Until)> _discovery = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (JsonWebKeySet Keys, DateTimeOffset Until)> _jwks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<SourceRegistration, SigningCredentials> _signing = new();

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

    /// <summary>
    /// Exchanges an authorization code. Sent once: a code is single-use, so a retry after a lost
    /// answer would only earn invalid_grant (the HttpClient does not retry POSTs).
    /// </summary>
    public async Task<TokenResponse> ExchangeCodeAsync(
        string tokenEndpoint, SourceRegistration registration, string code, string redirectUri, string codeVerifier,
        CancellationToken cancellationToken = default)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "authorization_code"),
            new("code", code),
            new("redirect_uri", redirectUri),
            new("code_verifier", codeVerifier),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint);
        AddClientAuthentication(request, form, registration, tokenEndpoint);
        request.Content = new FormUrlEncodedContent(form);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        HttpResponseMessage response;
        try
        {
            response = await Http().SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Token endpoint {Host} unreachable: {Kind}", HostOf(tokenEndpoint), e.GetType().Name);
            throw new SmartException("ehr_error", $"The health system's token service at {HostOf(tokenEndpoint)} could not be reached.", e);
        }

        using (response)
        {
            JsonElement body;
            try
            {
                body = await ReadJsonAsync(response, cancellationToken);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or HttpRequestException)
            {
                throw new SmartException("ehr_error",
                    $"The health system's token service answered {(int)response.StatusCode} without a usable JSON body.", e);
            }

            if (!response.IsSuccessStatusCode)
            {
                var error = Str(body, "error");
                var description = Str(body, "error_description");
                logger.LogWarning("Token endpoint {Host} refused the code: {Status} {Error}", HostOf(tokenEndpoint), (int)response.StatusCode, error);
                if (error is null)
                {
                    throw new SmartException("ehr_error", $"The health system's token service answered {(int)response.StatusCode}.");
                }
                throw new SmartException("token_exchange_failed", Describe(error, description));
            }

            var accessToken = Str(body, "access_token");
            if (string.IsNullOrEmpty(accessToken))
            {
                throw new SmartException("ehr_error", "The token response carried no access_token.");
            }
            var tokenType = Str(body, "token_type");
            if (tokenType is not null && !tokenType.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
            {
                throw new SmartException("ehr_error", $"The token response has token_type '{Truncate(tokenType, 20)}', not Bearer.");
            }
            return new TokenResponse(
                accessToken,
                Str(body, "refresh_token"),
                Str(body, "id_token"),
                ExpiresIn(body),
                Str(body, "scope"),
                Str(body, "patient"),
                // Not in RFC 6749, but sent by several EHRs (and the sandbox) for a refresh token that ends.
                ExpiresIn(body, "refresh_token_expires_in"));
        }
    }

    /// <summary>
    /// The refresh_token grant with the source's client authentication. Never throws for an answer of
    /// the token endpoint: the outcome says whether the grant was refused (the refresh token is dead)
    /// or the attempt failed in a way worth retrying. Sent once per call, like the code exchange.
    /// </summary>
    public async Task<RefreshOutcome> RefreshAsync(
        string tokenEndpoint, SourceRegistration registration, string refreshToken, CancellationToken cancellationToken = default)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "refresh_token"),
            new("refresh_token", refreshToken),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint);
        AddClientAuthentication(request, form, registration, tokenEndpoint);
        request.Content = new FormUrlEncodedContent(form);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        HttpResponseMessage response;
        try
        {
            response = await Http().SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Token endpoint {Host} unreachable for a refresh: {Kind}", HostOf(tokenEndpoint), e.GetType().Name);
            return RefreshOutcome.Transient($"The token service at {HostOf(tokenEndpoint)} could not be reached ({e.GetType().Name}).");
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            JsonElement body;
            try
            {
                body = await ReadJsonAsync(response, cancellationToken);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or HttpRequestException)
            {
                return RefreshOutcome.Transient($"The token service answered {status} without a usable JSON body.");
            }

            if (!response.IsSuccessStatusCode)
            {
                var error = Str(body, "error");
                var description = Str(body, "error_description");
                logger.LogWarning("Token endpoint {Host} refused a refresh: {Status} {Error}", HostOf(tokenEndpoint), status, error);
                // RFC 6749 §5.2: invalid_grant means the refresh token is expired, revoked or spent; the
                // scope and client-grant errors will not heal by retrying either. invalid_client, 429 and
                // 5xx concern our registration or the server's health, not this patient's grant.
                return status is >= 400 and < 500 and not 429 && error is "invalid_grant" or "invalid_scope" or "unauthorized_client"
                    ? RefreshOutcome.Rejected(Truncate(error!, 64), Describe(error!, description))
                    : RefreshOutcome.Transient(error is null ? $"The token service answered {status}." : $"The token service answered {status}: {Describe(error, description)}");
            }

            var accessToken = Str(body, "access_token");
            if (string.IsNullOrEmpty(accessToken))
            {
                return RefreshOutcome.Transient("The refresh response carried no access_token.");
            }
            return RefreshOutcome.Ok(new TokenResponse(
                accessToken,
                Str(body, "refresh_token"),
                Str(body, "id_token"),
                ExpiresIn(body),
                Str(body, "scope"),
                Str(body, "patient"),
                ExpiresIn(body, "refresh_token_expires_in")));
        }
    }

    /// <summary>
    /// RFC 7009 revocation, authenticated like the token endpoint. Returns null when the server accepted
    /// it, otherwise why not (recorded by the caller; a failed revocation does not stop a disconnect).
    /// </summary>
    public async Task<string?> RevokeAsync(
        string revocationEndpoint, SourceRegistration registration, string token, string tokenTypeHint, CancellationToken cancellationToken = default)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("token", token),
            new("token_type_hint", tokenTypeHint),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, revocationEndpoint);
        AddClientAuthentication(request, form, registration, revocationEndpoint);
        request.Content = new FormUrlEncodedContent(form);
        try
        {
            using var response = await Http().SendAsync(request, cancellationToken);
            return response.IsSuccessStatusCode ? null : $"The revocation endpoint at {HostOf(revocationEndpoint)} answered {(int)response.StatusCode}.";
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return $"The revocation endpoint at {HostOf(revocationEndpoint)} could not be reached ({e.GetType().Name}).";
        }
    }

    /// <summary>
    /// Checks an id_token: issuer (the FHIR base, or the discovery issuer), audience (our client id),
    /// expiry, and the signature against the server's JWKS. Throws <see cref="SmartException"/> with
    /// code id_token_invalid.
    /// </summary>
    /// <returns>The fhirUser claim when the token carries one.</returns>
    public async Task<string?> ValidateIdTokenAsync(
        string fhirBaseUrl, string? issuer, string? jwksUri, string clientId, string idToken, CancellationToken cancellationToken = default)
    {
        var issuers = new List<string> { fhirBaseUrl, fhirBaseUrl + "/" };
        if (issuer is not null) issuers.Add(issuer);

        var parameters = new TokenValidationParameters
        {
            ValidIssuers = issuers,
            ValidAudience = clientId,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            // Lifetime is checked against our TimeProvider (not DateTime.UtcNow) so tests can move time.
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = timeProvider.GetUtcNow().UtcDateTime;
                var skew = TimeSpan.FromMinutes(2);
                return expires is { } exp && now < exp + skew && (notBefore is not { } nbf || nbf - skew <= now);
            },
            ValidAlgorithms = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384"],
        };

        if (jwksUri is not null)
        {
            var keys = await GetJwksAsync(jwksUri, refresh: false, cancellationToken);
            parameters.IssuerSigningKeys = keys.GetSigningKeys();
            var result = await new JsonWebTokenHandler().ValidateTokenAsync(idToken, parameters);
            if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException)
            {
                // The server rotated its keys since we cached the set: fetch once more before refusing.
                keys = await GetJwksAsync(jwksUri, refresh: true, cancellationToken);
                parameters.IssuerSigningKeys = keys.GetSigningKeys();
                result = await new JsonWebTokenHandler().ValidateTokenAsync(idToken, parameters);
            }
            return FhirUserOf(result);
        }

        // No jwks_uri published (the /metadata fallback never has one). OpenID Connect Core §3.1.3.7
        // allows TLS server validation in place of the signature check for an id_token received straight
        // from the token endpoint, which is the case here; the claims are still checked.
        parameters.RequireSignedTokens = false;
        parameters.ValidateIssuerSigningKey = false;
        parameters.SignatureValidator = (token, _) => new JsonWebToken(token);
        return FhirUserOf(await new JsonWebTokenHandler().ValidateTokenAsync(idToken, parameters));
    }

    private static string? FhirUserOf(TokenValidationResult result)
    {
        if (result.IsValid)
        {
            return result.Claims.TryGetValue("fhirUser", out var fhirUser) ? fhirUser as string : null;
        }
        // The exception type names what failed (issuer, audience, lifetime, signature) without the token.
        var what = result.Exception?.GetType().Name.Replace("SecurityToken", "").Replace("Exception", "") ?? "Invalid";
        throw new SmartException("id_token_invalid", $"The id_token from the health system failed validation ({what}).", result.Exception);
    }

    private async Task<JsonWebKeySet> GetJwksAsync(string jwksUri, bool refresh, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        if (!refresh && _jwks.TryGetValue(jwksUri, out var cached) && cached.Until > now) return cached.Keys;
        try
        {
            using var response = await Http().GetAsync(jwksUri, cancellationToken);
            response.EnsureSuccessStatusCode();
            var keys = new JsonWebKeySet(await response.Content.ReadAsStringAsync(cancellationToken));
            _jwks[jwksUri] = (keys, now + JwksTtl);
            return keys;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SmartException("id_token_invalid", $"The health system's signing keys at {HostOf(jwksUri)} could not be fetched.", e);
        }
    }

    private void AddClientAuthentication(
        HttpRequestMessage request, List<KeyValuePair<string, string>> form, SourceRegistration registration, string tokenEndpoint)
    {
        switch (registration.AuthMethod)
        {
            case ClientAuthMethod.None:
                form.Add(new("client_id", registration.ClientId));
                break;
            case ClientAuthMethod.ClientSecretBasic:
                // RFC 6749 §2.3.1: both parts are form-url-encoded before the Basic encoding.
                var pair = $"{Uri.EscapeDataString(registration.ClientId)}:{Uri.EscapeDataString(registration.ClientSecret!)}";
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
                break;
            case ClientAuthMethod.PrivateKeyJwt:
                form.Add(new("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
                form.Add(new("client_assertion", CreateClientAssertion(registration, tokenEndpoint)));
                break;
        }
    }

    /// <summary>SMART Backend Services / RFC 7523 client assertion: iss = sub = client_id, aud = token endpoint.</summary>
    internal string CreateClientAssertion(SourceRegistration registration, string tokenEndpoint)
    {
        var credentials = _signing.GetOrAdd(registration, LoadSigningCredentials);
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = registration.ClientId,
            Audience = tokenEndpoint,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + AssertionLifetime,
            SigningCredentials = credentials,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = registration.ClientId,
                // A fresh jti per assertion: servers refuse a replayed one.
                ["jti"] = Ids.RandomToken(20),
            },
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private static SigningCredentials LoadSigningCredentials(SourceRegistration registration)
    {
        var pem = registration.PrivateKeyPem ?? throw new InvalidOperationException("private_key_jwt needs a PrivateKeyPem.");
        // SMART asks for RS384 or ES384; the PEM alone says which kind of key it is.
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = registration.KeyId }, SecurityAlgorithms.RsaSha384);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            var ec = ECDsa.Create();
            try
            {
                ec.ImportFromPem(pem);
            }
            catch (Exception inner) when (inner is CryptographicException or ArgumentException)
            {
                throw new InvalidOperationException($"The private key of client {registration.ClientId} is neither an RSA nor an EC PEM key.");
            }
            return new SigningCredentials(new ECDsaSecurityKey(ec) { KeyId = registration.KeyId }, SecurityAlgorithms.EcdsaSha384);
        }
    }

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

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
        return doc.RootElement.Clone();
    }

    private HttpClient Http() => httpClientFactory.CreateClient(HttpClientName);

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

    /// <summary>expires_in in seconds; some servers send it as a string, so both forms are read.</summary>
    private static TimeSpan? ExpiresIn(JsonElement body, string property = "expires_in")
    {
        if (!body.TryGetProperty(property, out var value)) return null;
        long seconds = 0;
        var ok = value.ValueKind == JsonValueKind.Number
            ? value.TryGetInt64(out seconds)
            : value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), out seconds);
        return ok && seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;
    }

    private static string Describe(string error, string? description) =>
        description is null ? Truncate(error, 100) : $"{Truncate(error, 100)}: {Truncate(description, 300)}";

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];

    internal static string HostOf(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Authority : "the health system";
}

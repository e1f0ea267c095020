using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PatientConnect.Grains.Sources;

namespace PatientConnect.Grains.Smart;

/// <summary>
/// The token service's endpoints: the code exchange, the refresh_token grant and RFC 7009 revocation.
/// Each request is one form POST with the registration's client authentication, sent once: the
/// HttpClient does not retry POSTs (a code is single-use; a spent refresh token earns invalid_grant).
/// </summary>
public sealed partial class SmartClient
{
    /// <summary>
    /// Exchanges an authorization code. Sent once: a code is single-use, so a retry after a lost
    /// answer would only earn invalid_grant (the HttpClient does not retry POSTs).
    /// </summary>
    public async Task<TokenResponse> ExchangeCodeAsync(
        string tokenEndpoint, SourceRegistration registration, string code, string redirectUri, string codeVerifier,
        CancellationToken cancellationToken = default)
    {
        HttpResponseMessage response;
        try
        {
            response = await PostFormAsync(tokenEndpoint, registration, cancellationToken,
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectUri), ("code_verifier", codeVerifier));
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
            return TokenResponseOf(body, accessToken);
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
        HttpResponseMessage response;
        try
        {
            response = await PostFormAsync(tokenEndpoint, registration, cancellationToken,
                ("grant_type", "refresh_token"), ("refresh_token", refreshToken));
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
            return RefreshOutcome.Ok(TokenResponseOf(body, accessToken));
        }
    }

    /// <summary>
    /// RFC 7009 revocation, authenticated like the token endpoint. Returns null when the server accepted
    /// it, otherwise why not (recorded by the caller; a failed revocation does not stop a disconnect).
    /// </summary>
    public async Task<string?> RevokeAsync(
        string revocationEndpoint, SourceRegistration registration, string token, string tokenTypeHint, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await PostFormAsync(revocationEndpoint, registration, cancellationToken,
                ("token", token), ("token_type_hint", tokenTypeHint));
            return response.IsSuccessStatusCode ? null : $"The revocation endpoint at {HostOf(revocationEndpoint)} answered {(int)response.StatusCode}.";
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return $"The revocation endpoint at {HostOf(revocationEndpoint)} could not be reached ({e.GetType().Name}).";
        }
    }

    /// <summary>SMART Backend Services / RFC 7523 client assertion for <paramref name="tokenEndpoint"/>.</summary>
    internal string CreateClientAssertion(SourceRegistration registration, string tokenEndpoint) =>
        _clientAuthentication.CreateAssertion(registration, tokenEndpoint);

    /// <summary>
    /// The one place a token-service POST is put together: the form fields, the registration's client
    /// authentication (which may add fields or a header), and Accept: application/json.
    /// </summary>
    private async Task<HttpResponseMessage> PostFormAsync(
        string endpoint, SourceRegistration registration, CancellationToken cancellationToken, params (string Name, string Value)[] fields)
    {
        var form = fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).ToList();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
        _clientAuthentication.Apply(request, form, registration, endpoint);
        request.Content = new FormUrlEncodedContent(form);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return await Http().SendAsync(request, cancellationToken);
    }

    private static TokenResponse TokenResponseOf(JsonElement body, string accessToken) => new(
        accessToken,
        Str(body, "refresh_token"),
        Str(body, "id_token"),
        ExpiresIn(body),
        Str(body, "scope"),
        Str(body, "patient"),
        // Not in RFC 6749, but sent by several EHRs (and the sandbox) for a refresh token that ends.
        ExpiresIn(body, "refresh_token_expires_in"));

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
}

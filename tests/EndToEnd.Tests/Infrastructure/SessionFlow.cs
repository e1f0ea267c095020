using System.Collections.Specialized;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Web;

namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The steps of the connect flow as an app backend and a patient's browser take them, one HTTP
/// request at a time: create the session, open its URL, consent at the sandbox (scripted with
/// X-Sandbox-Consent), come back through /oauth/callback.
/// </summary>
public sealed class SessionFlow(ServiceProcesses services, HttpClient api, HttpClient browser)
{
    private static readonly Dictionary<string, string> SourceIds = new(StringComparer.Ordinal);

    public const string ConsentHeader = "X-Sandbox-Consent";

    /// <summary>Where the patient is sent at the end; any loopback URL is accepted in this set-up.</summary>
    public string ReturnUrl => new Uri(services.ApiBase, "health/live?app=e2e").ToString();

    /// <summary>The src_ id the directory gives a sandbox hospital, found through GET /v1/sources.</summary>
    public async Task<string> SourceIdAsync(string hospital)
    {
        var fhirBase = services.FhirBase(hospital);
        lock (SourceIds)
        {
            if (SourceIds.TryGetValue(fhirBase, out var known)) return known;
        }
        using var response = await api.GetAsync($"v1/sources?q={Uri.EscapeDataString(hospital)}&limit=100");
        var body = await Json.ReadAsync(response, HttpStatusCode.OK);
        foreach (var source in body["data"]!.AsArray())
        {
            if (string.Equals(source!["fhir_base_url"]!.GetValue<string>().TrimEnd('/'), fhirBase.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
            {
                var id = source["id"]!.GetValue<string>();
                lock (SourceIds) SourceIds[fhirBase] = id;
                return id;
            }
        }
        throw new InvalidOperationException($"No source with FHIR base {fhirBase} in {body.ToJsonString()}");
    }

    public async Task<HttpResponseMessage> PostSessionAsync(object body, string? idempotencyKey = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/patient-sessions") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await (client ?? api).SendAsync(request);
    }

    /// <summary>POST /v1/patient-sessions; the 201 body.</summary>
    public async Task<JsonObject> CreateSessionAsync(string patientId, string? sourceId = null, int? expiresIn = null,
        IReadOnlyList<string>? recommended = null, object? metadata = null, string? returnUrl = null)
    {
        var body = new Dictionary<string, object?> { ["patient_id"] = patientId, ["return_url"] = returnUrl ?? ReturnUrl };
        if (sourceId is not null) body["source_id"] = sourceId;
        if (expiresIn is not null) body["expires_in"] = expiresIn;
        if (recommended is not null) body["recommended_source_ids"] = recommended;
        if (metadata is not null) body["metadata"] = metadata;
        using var response = await PostSessionAsync(body);
        return await Json.ReadAsync(response, HttpStatusCode.Created);
    }

    public async Task<JsonObject> GetSessionAsync(string sessionId) =>
        await Json.GetAsync(api, $"v1/patient-sessions/{sessionId}");

    public async Task<JsonObject> GetConnectionAsync(string connectionId) =>
        await Json.GetAsync(api, $"v1/connections/{connectionId}");

    /// <summary>Opens a direct-mode session URL: the answer must be a redirect to the sandbox's authorize endpoint.</summary>
    public async Task<Uri> OpenDirectAsync(string sessionUrl)
    {
        using var response = await browser.GetAsync(sessionUrl);
        return await AuthorizeRedirectAsync(response);
    }

    /// <summary>A redirect (302/303/307) to the sandbox's authorize endpoint, checked and returned.</summary>
    public async Task<Uri> AuthorizeRedirectAsync(HttpResponseMessage response)
    {
        var location = await RedirectTargetAsync(response);
        Assert.Equal(services.SandboxBase.Authority, location.Authority);
        Assert.EndsWith("/auth/authorize", location.AbsolutePath, StringComparison.Ordinal);
        return location;
    }

    /// <summary>The authorize request with scripted consent: the sandbox's redirect to our /oauth/callback.</summary>
    public async Task<Uri> ConsentAsync(Uri authorizeUrl, string decision = "approve")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, authorizeUrl);
        request.Headers.Add(ConsentHeader, decision);
        using var response = await browser.SendAsync(request);
        var callback = await RedirectTargetAsync(response);
        Assert.Equal(services.ApiBase.Authority, callback.Authority);
        Assert.Equal("/oauth/callback", callback.AbsolutePath);
        return callback;
    }

    public async Task<HttpResponseMessage> CallbackAsync(Uri callbackUrl) => await browser.GetAsync(callbackUrl);

    /// <summary>The callback's redirect back to the app: it must go to return_url; its query parameters.</summary>
    public async Task<NameValueCollection> ReturnParametersAsync(HttpResponseMessage callbackResponse, string? returnUrl = null)
    {
        var target = await RedirectTargetAsync(callbackResponse);
        return ReturnParameters(target, returnUrl ?? ReturnUrl);
    }

    /// <summary>The query of a redirect back to the app, checked to go to return_url and to keep the app's own parameters.</summary>
    public static NameValueCollection ReturnParameters(Uri target, string returnUrl)
    {
        var expected = new Uri(returnUrl);
        Assert.Equal(expected.GetLeftPart(UriPartial.Path), target.GetLeftPart(UriPartial.Path));
        var query = HttpUtility.ParseQueryString(target.Query);
        var own = HttpUtility.ParseQueryString(expected.Query);
        foreach (var key in own.AllKeys) Assert.Equal(own[key], query[key]);
        return query;
    }

    /// <summary>A whole direct-mode flow: new session, authorize, consent, callback. The session and the return query.</summary>
    public async Task<(JsonObject Session, NameValueCollection Return)> ConnectAsync(string patientId, string hospital, string decision = "approve")
    {
        var session = await CreateSessionAsync(patientId, await SourceIdAsync(hospital));
        var authorize = await OpenDirectAsync(session["url"]!.GetValue<string>());
        var callback = await ConsentAsync(authorize, decision);
        using var response = await CallbackAsync(callback);
        var query = await ReturnParametersAsync(response);
        return (await GetSessionAsync(session["id"]!.GetValue<string>()), query);
    }

    public static async Task<Uri> RedirectTargetAsync(HttpResponseMessage response)
    {
        if (response.StatusCode is not (HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.Fail($"expected a redirect from {response.RequestMessage?.RequestUri}, got {(int)response.StatusCode}: {body[..Math.Min(body.Length, 800)]}");
        }
        var location = response.Headers.Location;
        Assert.NotNull(location);
        return location.IsAbsoluteUri ? location : new Uri(response.RequestMessage!.RequestUri!, location);
    }
}

/// <summary>JSON reading with the status check and the body in the failure message.</summary>
public static class Json
{
    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected,
            $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)?.AsObject() ?? throw new InvalidOperationException("empty JSON body");
    }

    public static async Task<JsonObject> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return await ReadAsync(response, HttpStatusCode.OK);
    }

    public static string? Str(this JsonNode? node, string property) =>
        node?[property] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}

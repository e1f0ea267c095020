using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Web;

[assembly: AssemblyFixture(typeof(SandboxEhr.Tests.SandboxProcess))]

namespace SandboxEhr.Tests;

/// <summary>The token endpoint's answer, as a client reads it.</summary>
public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("scope")] string Scope,
    [property: JsonPropertyName("patient")] string Patient,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken,
    [property: JsonPropertyName("id_token")] string? IdToken,
    [property: JsonPropertyName("refresh_token_expires_in")] int? RefreshTokenExpiresIn = null);

/// <summary>Where the authorize endpoint sent the browser back: a code or an error, and what to redeem it with.</summary>
public sealed record AuthorizationResult(
    HttpStatusCode Status, Uri? Location, string? Code, string? Error, string? ReturnedState,
    string State, string CodeVerifier, string RedirectUri, string ClientId);

/// <summary>
/// The built SandboxEhr.dll started as its own process on a free 127.0.0.1 port (one per test assembly run;
/// tests that change hospital settings take an <see cref="IsolatedSandbox"/> so they cannot disturb others).
/// Its HttpClient does not follow redirects, so the authorize 302 can be read.
/// </summary>
public class SandboxProcess : IAsyncLifetime
{
    public const string PublicClient = "sandbox-public";
    public const string ConfidentialClient = "sandbox-confidential";
    public const string ConfidentialSecret = "sandbox-secret";
    /// <summary>Registered by this fixture with the public keys of <see cref="JwtClientKeys"/>.</summary>
    public const string JwtClient = "sandbox-jwt";
    /// <summary>A public client configured with one exact redirect URI (no loopback wildcard).</summary>
    public const string RegisteredRedirectClient = "registered-app";
    public const string RegisteredRedirectUri = "https://app.example.test/oauth/callback";
    public const string DefaultScope = "launch/patient openid fhirUser offline_access patient/*.read";
    /// <summary>A loopback redirect URI nobody listens on: headless clients only read the 302 Location.</summary>
    public const string DefaultRedirectUri = "http://127.0.0.1:9/callback";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    public string BaseUrl { get; private set; } = "";
    public HttpClient HttpClient { get; private set; } = new();

    public string FhirBase(string hospitalId) => $"{BaseUrl}/hospitals/{hospitalId}/fhir";
    public string AuthBase(string hospitalId) => $"{BaseUrl}/hospitals/{hospitalId}/auth";

    /// <summary>The last lines the sandbox printed, for failure messages.</summary>
    public string RecentOutput => string.Join('\n', _output);

    /// <summary>More command-line arguments for the sandbox (configuration as <c>--Key=value</c>).</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    public async ValueTask InitializeAsync()
    {
        // SANDBOXEHR_DLL points at another build (e.g. a published one); by default the repository's own.
        var dll = Environment.GetEnvironmentVariable("SANDBOXEHR_DLL") is { Length: > 0 } configured
            ? configured
            : Path.Combine(RepositoryRoot(), "SandboxEhr", "bin", Configuration, "net10.0", "SandboxEhr.dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"Build SandboxEhr first ({Configuration}).", dll);

        var port = FreePorts.Next();
        BaseUrl = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(BaseUrl);
        start.ArgumentList.Add("--Sandbox:Clients:0:Id=" + JwtClient);
        start.ArgumentList.Add("--Sandbox:Clients:0:AuthMethod=private_key_jwt");
        start.ArgumentList.Add("--Sandbox:Clients:0:Jwks=" + JwtClientKeys.PublicJwks);
        start.ArgumentList.Add("--Sandbox:Clients:1:Id=" + RegisteredRedirectClient);
        start.ArgumentList.Add("--Sandbox:Clients:1:RedirectUris:0=" + RegisteredRedirectUri);
        foreach (var argument in ExtraArguments)
            start.ArgumentList.Add(argument);
        start.Environment["DOTNET_NOLOGO"] = "1";

        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        HttpClient = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(BaseUrl),
            Timeout = TimeSpan.FromSeconds(60),
        };

        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"SandboxEhr exited with {_process.ExitCode}:\n{RecentOutput}");
            try
            {
                using var response = await HttpClient.GetAsync("/hospitals");
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet: it generates every hospital's data before it binds.
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"SandboxEhr did not answer GET /hospitals within {StartTimeout}:\n{RecentOutput}");
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        HttpClient.Dispose();
        if (_process is null)
            return;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
    }

    /// <summary>
    /// The whole standalone launch a headless client makes: authorize with PKCE S256 and the scripted consent
    /// header, then the token call with the client's authentication (none, Basic, or a private_key_jwt
    /// assertion for <see cref="JwtClient"/>). Throws with the server's answer when any step fails.
    /// </summary>
    public async Task<TokenResponse> ConnectAsync(string hospitalId, string clientId = PublicClient,
        string scope = DefaultScope, string? patientId = null)
    {
        var authorization = await AuthorizeAsync(hospitalId, clientId, scope,
            patientId is null ? "approve" : $"approve; patient={patientId}");
        if (authorization.Code is null)
            throw new InvalidOperationException(
                $"authorize gave {(int)authorization.Status} {authorization.Location} instead of a code");
        using var response = await RedeemCodeAsync(hospitalId, authorization);
        return await ReadTokenAsync(response);
    }

    /// <summary>GET authorize with a fresh verifier and state; the 302 is parsed, not followed.</summary>
    public async Task<AuthorizationResult> AuthorizeAsync(string hospitalId, string clientId = PublicClient,
        string scope = DefaultScope, string? consent = "approve", string redirectUri = DefaultRedirectUri,
        IDictionary<string, string?>? overrides = null)
    {
        var verifier = Pkce.NewVerifier();
        var state = Pkce.NewVerifier()[..16];
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = scope,
            ["state"] = state,
            ["aud"] = FhirBase(hospitalId),
            ["code_challenge"] = Pkce.Challenge(verifier),
            ["code_challenge_method"] = "S256",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            query[key] = value;

        var queryString = string.Join('&', query.Where(kv => kv.Value is not null)
            .Select(kv => $"{Uri.EscapeDataString(kv.Key)}={Uri.EscapeDataString(kv.Value!)}"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{AuthBase(hospitalId)}/authorize?{queryString}");
        if (consent is not null)
            request.Headers.Add("X-Sandbox-Consent", consent);
        using var response = await HttpClient.SendAsync(request);
        var location = response.Headers.Location;
        var returned = HttpUtility.ParseQueryString(location?.Query ?? "");
        string? Param(string name) => returned[name];
        return new AuthorizationResult(response.StatusCode, location, Param("code"), Param("error"), Param("state"),
            state, verifier, redirectUri, clientId);
    }

    /// <summary>The authorization_code token request for a result of <see cref="AuthorizeAsync"/>.</summary>
    public Task<HttpResponseMessage> RedeemCodeAsync(string hospitalId, AuthorizationResult authorization,
        string? codeVerifier = null, string? redirectUri = null, string? clientId = null) =>
        PostTokenAsync(hospitalId, clientId ?? authorization.ClientId, new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = authorization.Code ?? "",
            ["redirect_uri"] = redirectUri ?? authorization.RedirectUri,
            ["code_verifier"] = codeVerifier ?? authorization.CodeVerifier,
        });

    public Task<HttpResponseMessage> RefreshAsync(string hospitalId, string refreshToken, string clientId = PublicClient,
        string? scope = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken };
        if (scope is not null)
            form["scope"] = scope;
        return PostTokenAsync(hospitalId, clientId, form);
    }

    public Task<HttpResponseMessage> RevokeAsync(string hospitalId, string token, string clientId = PublicClient) =>
        PostAsync(hospitalId, "revoke", clientId, new Dictionary<string, string> { ["token"] = token });

    /// <summary>RFC 7662 introspection (the sandbox's validator): is this access token live?</summary>
    public async Task<bool> IsActiveAsync(string hospitalId, string accessToken)
    {
        using var response = await HttpClient.PostAsync($"{AuthBase(hospitalId)}/introspect",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = accessToken }));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("active").GetBoolean();
    }

    /// <summary>A token request authenticated the way <paramref name="clientId"/> is registered.</summary>
    public Task<HttpResponseMessage> PostTokenAsync(string hospitalId, string clientId, IDictionary<string, string> form) =>
        PostAsync(hospitalId, "token", clientId, form);

    private async Task<HttpResponseMessage> PostAsync(string hospitalId, string endpoint, string clientId,
        IDictionary<string, string> form)
    {
        var fields = new Dictionary<string, string>(form);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{AuthBase(hospitalId)}/{endpoint}");
        switch (clientId)
        {
            case ConfidentialClient:
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ConfidentialClient}:{ConfidentialSecret}")));
                break;
            case JwtClient:
                fields["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
                fields["client_assertion"] = JwtClientKeys.Assertion(JwtClient, $"{AuthBase(hospitalId)}/{endpoint}");
                break;
            default:
                fields["client_id"] = clientId;
                break;
        }
        request.Content = new FormUrlEncodedContent(fields);
        return await HttpClient.SendAsync(request);
    }

    public static async Task<TokenResponse> ReadTokenAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"token endpoint answered {(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<TokenResponse>(body)
               ?? throw new InvalidOperationException("empty token response");
    }

    /// <summary>PUT /hospitals/{id}/settings (partial, snake_case); returns the settings now in force.</summary>
    public async Task<JsonElement> SetSettingsAsync(string hospitalId, object settings)
    {
        using var response = await HttpClient.PutAsJsonAsync($"/hospitals/{hospitalId}/settings", settings);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"settings refused ({(int)response.StatusCode}): {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>DELETE /hospitals/{id}/settings: back to the profile's defaults.</summary>
    public async Task ResetSettingsAsync(string hospitalId)
    {
        using var response = await HttpClient.DeleteAsync($"/hospitals/{hospitalId}/settings");
        response.EnsureSuccessStatusCode();
    }

    private void Keep(string? line)
    {
        if (line is null)
            return;
        _output.Enqueue(line);
        while (_output.Count > 200)
            _output.TryDequeue(out _);
    }

    private static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Orleans.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException("Orleans.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// A sandbox of its own for a test class that changes hospital settings (settings are process-wide, and
/// test classes run in parallel). It skips the large patient to start faster.
/// </summary>
public sealed class IsolatedSandbox : SandboxProcess
{
    protected override IEnumerable<string> ExtraArguments => ["--Sandbox:Data:IncludeLargePatient=false"];
}

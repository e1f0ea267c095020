using System.Net;
using System.Net.Sockets;
using System.Web;
using Microsoft.Playwright;
using static SandboxEhr.Tests.AuthTestSupport;

namespace SandboxEhr.Tests;

/// <summary>Headless Chromium with the flags this closed machine needs; DisposeAsync is safe after a failed launch.</summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public IPlaywright? Playwright { get; private set; }
    public IBrowser? Browser { get; private set; }

    public async ValueTask InitializeAsync()
    {
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
            await Browser.DisposeAsync();
        Playwright?.Dispose();
    }
}

/// <summary>A one-request 127.0.0.1 listener standing in for the client's redirect URI.</summary>
internal sealed class CallbackListener : IDisposable
{
    private readonly HttpListener _listener = new();

    public CallbackListener()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            RedirectUri = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/callback/";
        }
        _listener.Prefixes.Add(RedirectUri);
        _listener.Start();
        Received = ReceiveAsync();
    }

    public string RedirectUri { get; }
    public Task<Uri> Received { get; }

    private async Task<Uri> ReceiveAsync()
    {
        var context = await _listener.GetContextAsync();
        var url = context.Request.Url!;
        context.Response.ContentType = "text/html; charset=utf-8";
        var body = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Back at the app</title></head><body>Connected</body></html>"u8.ToArray();
        await context.Response.OutputStream.WriteAsync(body);
        context.Response.Close();
        return url;
    }

    public void Dispose() => _listener.Close();
}

public sealed class ConsentPageBrowserTests(SandboxProcess sandbox, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private string AuthorizeUrl(string hospitalId, string redirectUri, string state, string verifier) =>
        $"{sandbox.AuthBase(hospitalId)}/authorize?" + string.Join('&', new Dictionary<string, string>
        {
            ["response_type"] = "code",
            ["client_id"] = SandboxProcess.PublicClient,
            ["redirect_uri"] = redirectUri,
            ["scope"] = "launch/patient openid fhirUser patient/*.read",
            ["state"] = state,
            ["aud"] = sandbox.FhirBase(hospitalId),
            ["code_challenge"] = Pkce.Challenge(verifier),
            ["code_challenge_method"] = "S256",
        }.Select(kv => $"{kv.Key}={Uri.EscapeDataString(kv.Value)}"));

    [Fact]
    public async Task Approve_in_the_browser_lands_on_the_redirect_uri_with_a_code_for_the_chosen_patient()
    {
        var patients = (await sandbox.GetJson("/hospitals/riverside/patients")).EnumerateArray().ToList();
        var chosen = patients[1];
        var chosenId = chosen.GetProperty("id").GetString()!;
        using var callback = new CallbackListener();
        var verifier = Pkce.NewVerifier();
        var page = await chromium.Browser!.NewPageAsync();

        var consent = await page.GotoAsync(AuthorizeUrl("riverside", callback.RedirectUri, "browser-state", verifier));
        Assert.Equal(200, consent!.Status);
        Assert.Equal("Sign in to Riverside General Hospital", await page.TitleAsync());
        Assert.True(await page.GetByText("patient/*.read").IsVisibleAsync());

        var label = $"{chosen.GetProperty("name").GetString()} born {chosen.GetProperty("birth_date").GetString()}, id {chosenId}";
        await page.GetByLabel(label, new() { Exact = true }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();

        var landed = await callback.Received.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await page.WaitForURLAsync(u => u.StartsWith(callback.RedirectUri, StringComparison.Ordinal));
        Assert.Equal("Connected", await page.Locator("body").InnerTextAsync());
        var returned = HttpUtility.ParseQueryString(landed.Query);
        Assert.Equal("browser-state", returned["state"]);
        Assert.False(string.IsNullOrEmpty(returned["code"]));

        var authorization = new AuthorizationResult(HttpStatusCode.Redirect, landed, returned["code"], null, returned["state"],
            "browser-state", verifier, callback.RedirectUri, SandboxProcess.PublicClient);
        var token = await SandboxProcess.ReadTokenAsync(await sandbox.RedeemCodeAsync("riverside", authorization));
        Assert.Equal(chosenId, token.Patient);
    }

    [Fact]
    public async Task Deny_in_the_browser_lands_on_the_redirect_uri_with_access_denied()
    {
        using var callback = new CallbackListener();
        var page = await chromium.Browser!.NewPageAsync();
        await page.GotoAsync(AuthorizeUrl("lakeside", callback.RedirectUri, "deny-state", Pkce.NewVerifier()));

        await page.GetByRole(AriaRole.Button, new() { Name = "Deny" }).ClickAsync();

        var landed = await callback.Received.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var returned = HttpUtility.ParseQueryString(landed.Query);
        Assert.Equal("access_denied", returned["error"]);
        Assert.Equal("deny-state", returned["state"]);
        Assert.Null(returned["code"]);
    }
}

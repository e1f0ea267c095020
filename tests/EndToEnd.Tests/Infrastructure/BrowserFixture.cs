using Microsoft.Playwright;

namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Debian's headless Chromium driven by Playwright's bundled driver (Playwright's own browser
/// download cannot work on a closed network, hence ExecutablePath).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>
    /// How long one browser step (a navigation, a click, a wait for a URL) may take. Generous: the browser
    /// tests start while every other test class is starting its own service on the same two cores, and a
    /// cold Chromium page load then took over 20 s once in CI; a step that really hangs still fails.
    /// </summary>
    public const float StepTimeoutMs = 60_000;

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath)) return; // the tests skip themselves with a reason
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // The resolver rule stops Chromium's background look-ups of outside hosts on this closed network.
            Args = ["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        // Null-safe: a failed launch must surface its own error, not one from here.
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}

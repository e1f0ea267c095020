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

    /// <summary>
    /// Runs a test's browser steps; when one fails, the failure names what the page showed then (its
    /// address, title and the start of its text), since a CI log keeps only the failure's message.
    /// </summary>
    public static async Task StepsAsync(IPage page, Func<Task> steps)
    {
        try
        {
            await steps();
        }
        catch (Exception e) when (e is not PageStateException)
        {
            throw new PageStateException($"{e.Message}\n{await DescribeAsync(page)}", e);
        }
    }

    private static async Task<string> DescribeAsync(IPage page)
    {
        try
        {
            var text = await page.EvaluateAsync<string>(
                "() => (document.title || '') + ' | focus: ' + (document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : '-') + ' | ' + (document.body ? document.body.innerText : '')",
                null).WaitAsync(TimeSpan.FromSeconds(10));
            var compact = string.Join(' ', text.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
            return $"page: {page.Url}\n{compact[..Math.Min(compact.Length, 1500)]}";
        }
        catch (Exception e) when (e is PlaywrightException or System.TimeoutException)
        {
            // A page that is navigating or hung: its address still says where the browser was.
            return $"page: {page.Url} (its text could not be read: {e.Message.Split('\n')[0]})";
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Null-safe: a failed launch must surface its own error, not one from here.
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}

using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.SourceDirectory;

/// <summary>
/// The service with what the development set-up's directory has (config/sources.sandbox.json): a
/// portal name and a logo served from our origin for each sandbox hospital; plus a second "Summit
/// Health Plan" in the same city under another portal, the lookalike a patient must tell apart.
/// </summary>
public sealed class BrandedServices : ServiceProcesses
{
    protected override void AddSiloEnvironment(Dictionary<string, string> env)
    {
        string[] hospitals = ["riverside", "lakeside", "summit"];
        string[] portals = ["RiverChart", "Lakeside HealtheLife", "Summit Member Portal"];
        for (var i = 0; i < hospitals.Length; i++)
        {
            env[$"Directory__Sources__{i}__PortalName"] = portals[i];
            env[$"Directory__Sources__{i}__LogoUrl"] = $"/connect/assets/logos/{hospitals[i]}.svg";
        }
        env["Directory__Sources__10__Name"] = "Summit Health Plan";
        env["Directory__Sources__10__Vendor"] = "payer";
        env["Directory__Sources__10__FhirBaseUrl"] = FhirBase("summit-medicare");
        env["Directory__Sources__10__City"] = "Hartford";
        env["Directory__Sources__10__State"] = "CT";
        env["Directory__Sources__10__Zip"] = "06103";
        env["Directory__Sources__10__PortalName"] = "Summit Medicare Advantage";
        env["Directory__Sources__10__ClientId"] = "sandbox-public";
    }
}

/// <summary>
/// Every patient page in real Chromium, in English and Spanish, at a phone's width and a desktop's:
/// axe-core finds no serious or critical violation, and a screenshot of each is saved for review
/// (in <c>.data/screenshots</c>, or <c>PATIENTCONNECT_SCREENSHOTS</c>). A keyboard alone finds and
/// chooses a hospital.
/// </summary>
public sealed class HostedPageAccessibilityTests(BrandedServices services, BrowserFixture browser)
    : EndToEndTest(services), IClassFixture<BrandedServices>, IClassFixture<BrowserFixture>
{
    private static readonly (string Name, int Width, int Height)[] Screens = [("phone", 390, 844), ("desktop", 1280, 900)];

    public static string ScreenshotFolder { get; } =
        Environment.GetEnvironmentVariable("PATIENTCONNECT_SCREENSHOTS") is { Length: > 0 } folder
            ? folder
            : Path.Combine(RepoPaths.Root, ".data", "screenshots");

    [Theory]
    [InlineData("en-US")]
    [InlineData("es-MX")]
    public async Task Every_patient_page_has_no_serious_accessibility_violation_on_phone_and_desktop(string locale)
    {
        RequiredTool.Chromium();
        var lang = locale[..2];
        var riverside = await Flow.SourceIdAsync("riverside");
        var unregistered = (await Json.GetAsync(ApiA, "v1/sources?q=Unregistered%20Clinic"))["data"]![0]!.Str("id")!;
        var session = await Flow.CreateSessionAsync(NewPatientId("a11y"), recommended: [riverside]);
        var url = session.Str("url")!;
        var (done, _) = await Flow.ConnectAsync(NewPatientId("a11ydone"), "lakeside");

        var pages = new (string Name, string Url, int Status)[]
        {
            ("1-search", url, 200),
            ("2-results", url + "?q=river", 200),
            ("2-lookalikes", url + "?q=summit", 200),
            ("3-no-results", url + "?q=zzzzqqqq", 200),
            ("4-bad-link", url + "/start?source_id=nope", 400),
            ("5-not-connectable", url + $"/start?source_id={unregistered}", 400),
            ("6-done", done.Str("url")!, 410),
            ("7-not-found", new Uri(Services.ApiBase, "connect/ps_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").ToString(), 404),
        };
        Directory.CreateDirectory(ScreenshotFolder);
        var problems = new List<string>();
        foreach (var (screen, width, height) in Screens)
        {
            await using var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
            {
                Locale = locale,
                ViewportSize = new ViewportSize { Width = width, Height = height },
                IsMobile = screen == "phone",
                HasTouch = screen == "phone",
            });
            var page = await context.NewPageAsync();
            page.SetDefaultTimeout(BrowserFixture.StepTimeoutMs);
            await BrowserFixture.StepsAsync(page, async () =>
            {
                foreach (var (name, pageUrl, status) in pages)
                {
                    var response = await page.GotoAsync(pageUrl);
                    Assert.Equal(status, response?.Status);
                    Assert.Equal(lang, await page.GetAttributeAsync("html", "lang"));
                    var axe = await page.RunAxe();
                    foreach (var violation in axe.Violations.Where(v => v.Impact is "serious" or "critical"))
                    {
                        problems.Add($"{lang} {screen} {name}: {violation.Impact} {violation.Id} ({violation.Help}) at " +
                                     string.Join(", ", violation.Nodes.Select(n => n.Html)));
                    }
                    // Logos load from our origin (no broken image), and same-named entries carry a telling line.
                    Assert.True(await page.EvaluateAsync<bool>("[...document.images].every(i => i.complete && i.naturalWidth > 0)"), $"{name}: a logo did not load");
                    if (name == "2-lookalikes")
                    {
                        var entries = await page.Locator("#results li").AllInnerTextsAsync();
                        Assert.Equal(2, entries.Count(e => e.StartsWith("Summit Health Plan", StringComparison.Ordinal)));
                        Assert.Equal(entries.Count, entries.Distinct().Count());
                        Assert.Contains(entries, e => e.Contains("Summit Medicare Advantage", StringComparison.Ordinal));
                    }
                    await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, $"{lang}-{name}-{screen}.png"), FullPage = true });
                }
            });
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public async Task A_portal_name_finds_its_hospital_and_logos_come_safely_from_our_origin()
    {
        var riverside = await Flow.SourceIdAsync("riverside");
        var session = await Flow.CreateSessionAsync(NewPatientId("brand"));
        using var page = await Anonymous.GetAsync($"{session.Str("url")}?q=riverchart", Cancel);
        var html = await page.Content.ReadAsStringAsync(Cancel);
        Assert.Equal(riverside, Assert.Single(HostedModeTests.Links(html)).SourceId);
        Assert.Contains("Patient portal: <span translate=\"no\">RiverChart</span>", html, StringComparison.Ordinal);
        Assert.Contains("src=\"/connect/assets/logos/riverside.svg\"", html, StringComparison.Ordinal);
        // The page may load images from our origin only (no logo host is allow-listed here).
        Assert.Contains("img-src 'self';", string.Join(" ", page.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);

        // Apps see the portal name, and the logo as an absolute URL of ours.
        var source = await Json.GetAsync(ApiA, $"v1/sources/{riverside}");
        Assert.Equal("RiverChart", source.Str("portal_name"));
        Assert.Equal(new Uri(Services.ApiBase, "connect/assets/logos/riverside.svg").ToString(), source.Str("logo_url"));

        using var logo = await Anonymous.GetAsync("connect/assets/logos/riverside.svg", Cancel);
        Assert.Equal(System.Net.HttpStatusCode.OK, logo.StatusCode);
        Assert.Equal("image/svg+xml", logo.Content.Headers.ContentType?.MediaType);
        Assert.Contains("sandbox", string.Join(" ", logo.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.Equal("nosniff", string.Join(" ", logo.Headers.GetValues("X-Content-Type-Options")));
        foreach (var bad in new[] { "..%2Fappsettings.json", "riverside.svg.exe", "missing.png", ".hidden.svg" })
        {
            using var refused = await Anonymous.GetAsync($"connect/assets/logos/{bad}", Cancel);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, refused.StatusCode);
        }
    }

    [Fact]
    public async Task A_keyboard_alone_searches_and_chooses_a_hospital()
    {
        RequiredTool.Chromium();
        var riverside = await Flow.SourceIdAsync("riverside");
        var session = await Flow.CreateSessionAsync(NewPatientId("keys"));
        await using var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-US" });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(BrowserFixture.StepTimeoutMs);
        await BrowserFixture.StepsAsync(page, async () =>
        {
            await page.GotoAsync(session.Str("url")!);

            // From the top of the page: Tab reaches the search box first.
            await page.Keyboard.PressAsync("Tab");
            Assert.Equal("q", await page.EvaluateAsync<string>("document.activeElement.id"));
            await page.Keyboard.TypeAsync("river", new() { Delay = 40 });
            await page.Locator("#results-region[data-query=\"river\"]").WaitForAsync();

            // Tab on: the search button, then the first result, which is the hospital a patient can connect.
            string? focused = null;
            for (var i = 0; i < 5 && focused is null; i++)
            {
                await page.Keyboard.PressAsync("Tab");
                focused = await page.EvaluateAsync<string?>("document.activeElement.matches('a.source') ? document.activeElement.dataset.sourceId : null");
            }
            Assert.Equal(riverside, focused);
            // The focus is visible: the outline the stylesheet gives focused links.
            var outline = await page.EvaluateAsync<string>("getComputedStyle(document.activeElement).outlineStyle");
            Assert.NotEqual("none", outline);

            // Enter follows the focused link: our start route for riverside, which sends the browser on to
            // riverside's sign-in. The request is the proof; how fast the EHR's page loads is not this test's.
            var authorize = await page.RunAndWaitForRequestAsync(() => page.Keyboard.PressAsync("Enter"),
                r => r.Url.Contains("/hospitals/riverside/auth/authorize", StringComparison.Ordinal));
            Assert.Contains("client_id=sandbox-public", authorize.Url, StringComparison.Ordinal);
            Assert.Contains($"/start?source_id={riverside}", authorize.RedirectedFrom?.Url ?? "(not redirected)", StringComparison.Ordinal);
        });
    }
}

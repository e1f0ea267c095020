using System.Text.RegularExpressions;
using System.Web;
using Microsoft.Playwright;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>The patient's whole journey in real headless Chromium: hosted search, the sandbox's consent page, back to the app.</summary>
public sealed class HostedPageBrowserTests(ServiceProcesses services, BrowserFixture browser)
    : EndToEndTest(services), IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Patient_searches_picks_a_hospital_approves_and_lands_on_return_url()
    {
        RequiredTool.Chromium();
        var patient = NewPatientId("browser");
        var lakeside = await Flow.SourceIdAsync("lakeside");
        var returnUrl = new Uri(Services.ApiBase, "health/live?app=browser").ToString();
        var session = await Flow.CreateSessionAsync(patient, returnUrl: returnUrl);

        await using var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-US" });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(BrowserFixture.StepTimeoutMs);
        await BrowserFixture.StepsAsync(page, async () =>
        {

            var opened = await page.GotoAsync(session.Str("url")!);
            Assert.Equal(200, opened?.Status);
            var search = page.Locator("input#q[name=q]");
            await search.FillAsync("Lakeside");
            await search.PressAsync("Enter");
            var result = page.Locator($"a.source[data-source-id=\"{lakeside}\"]");
            await result.WaitForAsync();
            Assert.Contains("Lakeside Medical Center", await result.InnerTextAsync(), StringComparison.Ordinal);
            await result.ClickAsync();

            // The sandbox's own login and consent page: pick the last test patient, approve.
            // Committed is enough: the locators below wait for what they use. Waiting for the EHR's (or, below,
            // the app's) page to fire `load` tests their pages, not our redirects; once it never came here while
            // the right address with the right answer was already on screen (Chromium's JSON viewer on it).
            await page.WaitForURLAsync(new Regex("/hospitals/lakeside/auth/authorize"), new() { WaitUntil = WaitUntilState.Commit });
            var patients = page.Locator("input[type=radio][name=patient]");
            var count = await patients.CountAsync();
            Assert.True(count > 0, "the sandbox shows no patient to sign in as");
            var chosen = patients.Nth(count - 1);
            var chosenId = await chosen.GetAttributeAsync("value");
            await chosen.CheckAsync();
            await page.Locator("button[name=decision][value=approve]").ClickAsync();

            var returnPath = new Uri(returnUrl).GetLeftPart(UriPartial.Path);
            await page.WaitForURLAsync(url => url.StartsWith(returnPath, StringComparison.Ordinal), new() { WaitUntil = WaitUntilState.Commit });
            var landed = new Uri(page.Url);
            var query = HttpUtility.ParseQueryString(landed.Query);
            Assert.Equal("true", query["success"]);
            Assert.Equal("browser", query["app"]);
            Assert.Equal(patient, query["patient_id"]);
            Assert.Equal(session.Str("id"), query["patient_session_id"]);
            Assert.StartsWith("conn_", query["connection_id"], StringComparison.Ordinal);

            var completed = await Flow.GetSessionAsync(session.Str("id")!);
            Assert.Equal("complete", completed.Str("status"));
            var connection = await Flow.GetConnectionAsync(query["connection_id"]!);
            Assert.Equal("active", connection.Str("status"));
            Assert.Equal(lakeside, connection.Str("source_id"));
            Assert.Equal(chosenId, connection.Str("fhir_patient_id"));
        });
    }

    [Fact]
    public async Task The_empty_page_lists_the_hospitals_a_patient_can_connect_and_river_finds_Riverside_first()
    {
        RequiredTool.Chromium();
        var riverside = await Flow.SourceIdAsync("riverside");
        var session = await Flow.CreateSessionAsync(NewPatientId("browseempty"));
        await using var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-US" });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(BrowserFixture.StepTimeoutMs);
        await BrowserFixture.StepsAsync(page, async () =>
        {
            await page.GotoAsync(session.Str("url")!);

            // Nothing typed: the sandbox hospitals (the only connectable sources here), not the snapshot A to Z.
            var names = (await page.Locator("#results-region a.source").AllInnerTextsAsync()).Select(n => n.Trim()).ToList();
            Assert.Equal(["Lakeside Medical Center", "Riverside General Hospital", "Summit Health Plan"], names);
            Assert.All(names, n => Assert.Matches(@"^\w.*[\w)]$", n));

            foreach (var query in new[] { "river", "riverside", "Riverside Gen" })
            {
                await page.Locator("input#q").FillAsync(query);
                await page.Locator($"#results-region[data-query=\"{query}\"]").WaitForAsync();
                var first = page.Locator("#results-region a.source").First;
                Assert.Equal(riverside, await first.GetAttributeAsync("data-source-id"));
            }
        });
    }

    [Fact]
    public async Task Patient_who_denies_lands_on_return_url_with_access_denied()
    {
        RequiredTool.Chromium();
        var patient = NewPatientId("browserdeny");
        var session = await Flow.CreateSessionAsync(patient, await Flow.SourceIdAsync("riverside"));

        await using var context = await browser.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(BrowserFixture.StepTimeoutMs);
        await BrowserFixture.StepsAsync(page, async () =>
        {
            // Direct mode: straight to the EHR, whose page is not ours to wait for (see the first test).
            await page.GotoAsync(session.Str("url")!, new() { WaitUntil = WaitUntilState.Commit });
            await page.WaitForURLAsync(new Regex("/hospitals/riverside/auth/authorize"), new() { WaitUntil = WaitUntilState.Commit });
            await page.Locator("button[name=decision][value=deny]").ClickAsync();

            var returnPath = new Uri(Flow.ReturnUrl).GetLeftPart(UriPartial.Path);
            await page.WaitForURLAsync(url => url.StartsWith(returnPath, StringComparison.Ordinal), new() { WaitUntil = WaitUntilState.Commit });
            var query = HttpUtility.ParseQueryString(new Uri(page.Url).Query);
            Assert.Equal("false", query["success"]);
            Assert.Equal("access_denied", query["error"]);
            Assert.Null(query["connection_id"]);
        });
    }
}

using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.SourceDirectory;

/// <summary>
/// The shipped directory in the running service: the silo loads the snapshot at start (the default
/// Directory:SnapshotFile), the sandbox hospitals come from configuration beside it.
/// </summary>
public sealed class DirectoryEndToEndTests(ServiceProcesses services, BrowserFixture browser)
    : EndToEndTest(services), IClassFixture<BrowserFixture>
{
    private async Task<JsonObject> FirstAsync(string query)
    {
        var found = await Json.GetAsync(ApiA, $"v1/sources?{query}");
        var data = found["data"]!.AsArray();
        Assert.NotEmpty(data);
        return data[0]!.AsObject();
    }

    [Fact]
    public async Task The_real_directory_answers_misspelled_prefix_and_filtered_searches()
    {
        var stanford = await FirstAsync("q=stanferd%20health");
        Assert.Equal("Stanford Health Care", stanford.Str("name"));
        Assert.Equal("epic", stanford.Str("vendor"));
        Assert.False(stanford["connectable"]!.GetValue<bool>());
        Assert.Equal("Mayo Clinic", (await FirstAsync("q=mayo%20cl")).Str("name"));

        var practice = await FirstAsync("q=sollus%20pediatrics");
        Assert.Equal("athenahealth", practice.Str("name"));
        Assert.Equal("NC - Sollus Pediatrics", practice.Str("matched_name"));

        var epic = await Json.GetAsync(ApiA, "v1/sources?vendor=epic&limit=100");
        Assert.Equal(100, epic["data"]!.AsArray().Count);
        Assert.All(epic["data"]!.AsArray(), s => Assert.Equal("epic", s.Str("vendor")));
        Assert.NotNull(epic.Str("next_cursor"));

        var area = await Json.GetAsync(ApiA, "v1/sources?q=medical&zip=100&limit=100");
        Assert.NotEmpty(area["data"]!.AsArray());
        Assert.All(area["data"]!.AsArray(), s => Assert.StartsWith("100", s.Str("zip"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sandbox_hospitals_stay_listed_and_connectable_beside_the_snapshot()
    {
        foreach (var hospital in new[] { "riverside", "lakeside", "summit" })
        {
            var id = await Flow.SourceIdAsync(hospital);
            var source = await Json.GetAsync(ApiA, $"v1/sources/{id}");
            Assert.True(source["connectable"]!.GetValue<bool>(), hospital);
        }
    }

    [Fact]
    public async Task A_source_without_registration_is_refused_clearly_when_chosen()
    {
        var stanford = (await FirstAsync("q=stanford%20health%20care")).Str("id")!;

        using var direct = await Flow.PostSessionAsync(new { patient_id = NewPatientId("dir"), return_url = Flow.ReturnUrl, source_id = stanford });
        var problem = await Json.ReadAsync(direct, HttpStatusCode.BadRequest);
        Assert.Contains("source_id", problem.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("cannot be connected", problem.ToJsonString(), StringComparison.Ordinal);

        var session = await Flow.CreateSessionAsync(NewPatientId("dir"));
        using var chosen = await Anonymous.GetAsync($"{session.Str("url")}/start?source_id={stanford}", Cancel);
        var html = await chosen.Content.ReadAsStringAsync(Cancel);
        Assert.Equal(HttpStatusCode.BadRequest, chosen.StatusCode);
        Assert.Null(chosen.Headers.Location);
        Assert.Contains("Stanford Health Care cannot be connected yet", html, StringComparison.Ordinal);
        Assert.Equal("open", (await Flow.GetSessionAsync(session.Str("id")!)).Str("status"));
    }

    [Fact]
    public async Task The_results_fragment_serves_search_as_you_type_for_an_open_session_only()
    {
        var session = await Flow.CreateSessionAsync(NewPatientId("sayt"));
        var riverside = await Flow.SourceIdAsync("riverside");
        using var fragment = await Anonymous.GetAsync($"{session.Str("url")}/results?q=rivrside", Cancel);
        var html = await fragment.Content.ReadAsStringAsync(Cancel);
        Assert.Equal(HttpStatusCode.OK, fragment.StatusCode);
        Assert.Contains("Riverside General Hospital", html, StringComparison.Ordinal);
        Assert.Contains($"data-source-id=\"{riverside}\"", html, StringComparison.Ordinal);
        // The hosted page hides what cannot be connected (PatientConnect:HostedPage:ConnectableOnly, on by default).
        Assert.DoesNotContain("Riverside Nephrology", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<html", html, StringComparison.Ordinal);

        using var unknown = await Anonymous.GetAsync("connect/ps_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/results?q=stanford", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Typing_in_the_hosted_search_box_shows_matches_without_submitting()
    {
        RequiredTool.Chromium();
        var riverside = await Flow.SourceIdAsync("riverside");
        var session = await Flow.CreateSessionAsync(NewPatientId("typing"));

        await using var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-US" });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(BrowserFixture.StepTimeoutMs);
        await BrowserFixture.StepsAsync(page, async () =>
        {
            var errors = new List<string>();
            // A missing favicon is a console error too; what matters is the policy letting the script run.
            page.Console += (_, message) => { if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal)) errors.Add(message.Text); };
            Assert.Equal(200, (await page.GotoAsync(session.Str("url")!))?.Status);

            await page.Locator("input#q").PressSequentiallyAsync("rivrside gen", new() { Delay = 30 });
            // The empty page already lists the development hospitals: wait for the typed query's results
            // (the script puts the query in the address when it shows them), not for what was there before.
            await page.WaitForURLAsync(url => url.Contains("q=rivrside", StringComparison.Ordinal));
            var result = page.Locator($"#results-region a.source[data-source-id=\"{riverside}\"]");
            await result.WaitForAsync();
            Assert.Equal("Riverside General Hospital", (await result.InnerTextAsync()).Trim());
            // No navigation happened: the page's address only reflects the query, for back/refresh.
            Assert.StartsWith(session.Str("url")!, page.Url, StringComparison.Ordinal);
            Assert.Contains("q=rivrside", page.Url, StringComparison.Ordinal);
            Assert.Empty(errors);
        });
    }
}

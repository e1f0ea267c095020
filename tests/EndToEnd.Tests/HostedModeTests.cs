using System.Net;
using System.Text.RegularExpressions;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>The hosted connect page as plain HTTP (it works without JavaScript); the browser test drives it in Chromium.</summary>
public sealed partial class HostedModeTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Fact]
    public async Task Search_page_lists_recommended_sources_first_and_finds_by_name()
    {
        var lakeside = await Flow.SourceIdAsync("lakeside");
        var summit = await Flow.SourceIdAsync("summit");
        var riverside = await Flow.SourceIdAsync("riverside");
        var session = await Flow.CreateSessionAsync(NewPatientId("hosted"), recommended: [lakeside]);

        using var page = await Anonymous.GetAsync(session.Str("url"), Cancel);
        var html = await page.Content.ReadAsStringAsync(Cancel);
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"{(int)page.StatusCode}: {html}");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Matches(SearchInput(), html);
        var listed = Links(html);
        Assert.NotEmpty(listed);
        Assert.Equal(lakeside, listed[0].SourceId);

        using var search = await Anonymous.GetAsync($"{session.Str("url")}?q=Summit", Cancel);
        var found = Links(await search.Content.ReadAsStringAsync(Cancel));
        Assert.Contains(found, l => l.SourceId == summit);
        Assert.DoesNotContain(found, l => l.SourceId == riverside);
    }

    [Fact]
    public async Task Picking_a_source_on_the_page_leads_through_the_EHR_back_to_the_app()
    {
        var patient = NewPatientId("pick");
        var riverside = await Flow.SourceIdAsync("riverside");
        var session = await Flow.CreateSessionAsync(patient);
        Assert.Null(session.Str("source_id"));

        using var page = await Anonymous.GetAsync($"{session.Str("url")}?q=Riverside", Cancel);
        var link = Assert.Single(Links(await page.Content.ReadAsStringAsync(Cancel)), l => l.SourceId == riverside);

        using var chosen = await Anonymous.GetAsync(new Uri(new Uri(session.Str("url")!), link.Href), Cancel);
        var authorize = await Flow.AuthorizeRedirectAsync(chosen);
        using var back = await Flow.CallbackAsync(await Flow.ConsentAsync(authorize));
        var result = await Flow.ReturnParametersAsync(back);
        Assert.Equal("true", result["success"]);

        var completed = await Flow.GetSessionAsync(session.Str("id")!);
        Assert.Equal("complete", completed.Str("status"));
        Assert.Equal(result["connection_id"], completed.Str("connection_id"));
        Assert.Equal(riverside, (await Flow.GetConnectionAsync(result["connection_id"]!)).Str("source_id"));
        // The session names the source the patient chose, as a direct-mode session would.
        Assert.Equal(riverside, completed.Str("source_id"));
    }

    [Fact]
    public async Task After_choosing_one_source_and_going_back_to_another_the_completed_session_names_the_last_choice()
    {
        var patient = NewPatientId("repick");
        var riverside = await Flow.SourceIdAsync("riverside");
        var summit = await Flow.SourceIdAsync("summit");
        var session = await Flow.CreateSessionAsync(patient);
        var url = new Uri(session.Str("url")!);

        async Task<Uri> ChooseAsync(string hospital, string sourceId)
        {
            using var page = await Anonymous.GetAsync($"{url}?q={hospital}", Cancel);
            var link = Assert.Single(Links(await page.Content.ReadAsStringAsync(Cancel)), l => l.SourceId == sourceId);
            using var chosen = await Anonymous.GetAsync(new Uri(url, link.Href), Cancel);
            return await Flow.AuthorizeRedirectAsync(chosen);
        }

        await ChooseAsync("Riverside", riverside);
        // Still choosing: no source yet.
        Assert.Null((await Flow.GetSessionAsync(session.Str("id")!)).Str("source_id"));
        var authorize = await ChooseAsync("Summit", summit);
        using var back = await Flow.CallbackAsync(await Flow.ConsentAsync(authorize));
        Assert.Equal("true", (await Flow.ReturnParametersAsync(back))["success"]);

        var completed = await Flow.GetSessionAsync(session.Str("id")!);
        Assert.Equal(summit, completed.Str("source_id"));
        Assert.Equal(summit, (await Flow.GetConnectionAsync(completed.Str("connection_id")!)).Str("source_id"));
    }

    [Fact]
    public async Task A_source_without_client_registration_is_hidden_from_the_page_and_refused_when_chosen()
    {
        var session = await Flow.CreateSessionAsync(NewPatientId("unreg"));
        using var page = await Anonymous.GetAsync($"{session.Str("url")}?q=Unregistered", Cancel);
        var html = await page.Content.ReadAsStringAsync(Cancel);
        // PatientConnect:HostedPage:ConnectableOnly is on by default: the page offers only what works.
        Assert.DoesNotContain("Unregistered Clinic", html, StringComparison.Ordinal);
        Assert.Empty(Links(html));
        var unregistered = (await Json.GetAsync(ApiA, "v1/sources?q=Unregistered%20Clinic"))["data"]![0]!.Str("id")!;
        using var chosen = await Anonymous.GetAsync($"{session.Str("url")}/start?source_id={unregistered}", Cancel);
        Assert.True(chosen.Headers.Location is null || chosen.Headers.Location.Authority != Services.SandboxBase.Authority,
            $"sent to the EHR for an unregistered source: {chosen.Headers.Location}");
        Assert.Equal("open", (await Flow.GetSessionAsync(session.Str("id")!)).Str("status"));
    }

    [Fact]
    public async Task Completed_session_page_says_so_and_links_back_to_the_app()
    {
        var (session, _) = await Flow.ConnectAsync(NewPatientId("done"), "riverside");
        using var again = await Anonymous.GetAsync(session.Str("url"), Cancel);
        var html = await again.Content.ReadAsStringAsync(Cancel);
        Assert.True(again.StatusCode is HttpStatusCode.OK or HttpStatusCode.Gone or HttpStatusCode.Conflict, $"{(int)again.StatusCode}");
        Assert.Null(again.Headers.Location);
        Assert.Contains(WebUtility.HtmlEncode(new Uri(Flow.ReturnUrl).GetLeftPart(UriPartial.Path)), html, StringComparison.Ordinal);
        Assert.Empty(Links(html));
    }

    [Fact]
    public async Task Unknown_session_page_is_404()
    {
        using var response = await Anonymous.GetAsync("connect/ps_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    internal sealed record SourceLink(string SourceId, string Href);

    internal static List<SourceLink> Links(string html)
    {
        var links = new List<SourceLink>();
        foreach (Match anchor in Anchor().Matches(html))
        {
            var tag = anchor.Value;
            if (!ClassSource().IsMatch(tag)) continue;
            var id = DataSourceId().Match(tag);
            var href = Href().Match(tag);
            if (id.Success && href.Success)
            {
                links.Add(new SourceLink(WebUtility.HtmlDecode(id.Groups[1].Value), WebUtility.HtmlDecode(href.Groups[1].Value)));
            }
        }
        return links;
    }

    [GeneratedRegex("""<a\s[^>]*>""", RegexOptions.IgnoreCase)]
    private static partial Regex Anchor();

    [GeneratedRegex("""\sclass="([^"]*\s)?source(\s[^"]*)?"\s*""", RegexOptions.IgnoreCase)]
    private static partial Regex ClassSource();

    [GeneratedRegex("""\sdata-source-id="([^"]+)""", RegexOptions.IgnoreCase)]
    private static partial Regex DataSourceId();

    [GeneratedRegex("""\shref="([^"]+)""", RegexOptions.IgnoreCase)]
    private static partial Regex Href();

    [GeneratedRegex("""<input\s[^>]*name="q"[^>]*>""", RegexOptions.IgnoreCase)]
    private static partial Regex SearchInput();
}

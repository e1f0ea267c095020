using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.SourceDirectory;

/// <summary>
/// Every page a patient can see, in Spanish, chosen by the browser's Accept-Language or by the
/// session's <c>locale</c>; and the session's optional <c>patient_zip</c> / <c>patient_state</c>
/// suggesting sources near the patient before anything is typed.
/// </summary>
public sealed partial class HostedPageLanguageTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Fact]
    public async Task Every_patient_page_is_wholly_Spanish_when_the_browser_or_the_session_asks_for_it()
    {
        var patient = NewPatientId("es");
        var riverside = await Flow.SourceIdAsync("riverside");
        // Made first, checked last: the shortest lifetime allowed is a minute.
        var expiring = await PostAsync(new { patient_id = patient, return_url = Flow.ReturnUrl, expires_in = 60, locale = "es" });
        var expiresAt = DateTimeOffset.Parse(expiring.Str("expires_at")!);

        var byBrowser = await Flow.CreateSessionAsync(patient, recommended: [riverside]);
        var bySession = await PostAsync(new { patient_id = patient, return_url = Flow.ReturnUrl, locale = "es-US" });
        var unregistered = (await Json.GetAsync(ApiA, "v1/sources?q=Unregistered%20Clinic"))["data"]![0]!.Str("id")!;
        var url = byBrowser.Str("url")!;

        var pages = new List<(string What, string Url, HttpStatusCode Status, bool Browser)>
        {
            ("empty query", url, HttpStatusCode.OK, true),
            ("results", url + "?q=river", HttpStatusCode.OK, true),
            ("portal name", url + "?q=riverchart", HttpStatusCode.OK, true),
            ("no results", url + "?q=zzzzqqqq", HttpStatusCode.OK, true),
            ("results fragment", url + "/results?q=lake", HttpStatusCode.OK, true),
            ("empty fragment", url + "/results?q=", HttpStatusCode.OK, true),
            ("bad provider link", url + "/start?source_id=nope", HttpStatusCode.BadRequest, true),
            ("not connectable", url + $"/start?source_id={unregistered}", HttpStatusCode.BadRequest, true),
            ("unknown link", "connect/ps_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", HttpStatusCode.NotFound, true),
            ("sign-in response without state", "oauth/callback?code=abc", HttpStatusCode.BadRequest, true),
            ("sign-in response with an unknown state", "oauth/callback?code=abc&state=ps_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", HttpStatusCode.BadRequest, true),
            ("session locale", bySession.Str("url")!, HttpStatusCode.OK, false),
            ("session locale results", bySession.Str("url") + "?q=summit", HttpStatusCode.OK, false),
        };
        foreach (var (what, pageUrl, status, browser) in pages)
        {
            await AssertSpanishAsync(what, pageUrl, status, browser);
        }
        // The session's choice wins over the browser's.
        var english = await GetAsync(bySession.Str("url")!, "en-US,en;q=0.9");
        Assert.Contains("<html lang=\"es\"", english, StringComparison.Ordinal);

        // Done: the patient connected and opens the link again.
        var (done, _) = await Flow.ConnectAsync(NewPatientId("esdone"), "riverside");
        await AssertSpanishAsync("already used", done.Str("url")!, HttpStatusCode.Gone, true);

        var wait = expiresAt - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(2);
        if (wait > TimeSpan.Zero) await Task.Delay(wait, Cancel);
        await AssertSpanishAsync("expired", expiring.Str("url")!, HttpStatusCode.Gone, false);
    }

    [Fact]
    public async Task English_stays_the_default_and_a_Spanish_browser_with_English_preferred_gets_English()
    {
        var session = await Flow.CreateSessionAsync(NewPatientId("en"));
        var plain = await GetAsync(session.Str("url")!, null);
        Assert.Contains("<html lang=\"en\"", plain, StringComparison.Ordinal);
        Assert.Contains("Connect your health records", plain, StringComparison.Ordinal);
        var preferred = await GetAsync(session.Str("url")!, "en;q=0.9, es;q=0.5");
        Assert.Contains("<html lang=\"en\"", preferred, StringComparison.Ordinal);
        var spanishFirst = await GetAsync(session.Str("url")!, "fr-FR, es;q=0.8, en;q=0.5");
        Assert.Contains("<html lang=\"es\"", spanishFirst, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_empty_query_suggests_sources_near_the_patients_zip_or_state()
    {
        var riverside = await Flow.SourceIdAsync("riverside");
        var lakeside = await Flow.SourceIdAsync("lakeside");
        var summit = await Flow.SourceIdAsync("summit");

        var byZip = await PostAsync(new { patient_id = NewPatientId("near"), return_url = Flow.ReturnUrl, patient_zip = "53711-1234" });
        // The session object gives the hints back as stored (ZIP+4 kept to its five digits).
        Assert.Equal("53711", byZip.Str("patient_zip"));
        Assert.Null(byZip.Str("patient_state"));
        Assert.Null(byZip.Str("locale"));
        var html = await GetAsync(byZip.Str("url")!, null);
        Assert.Equal([riverside], Section(html, "near"));
        // The other sources a patient can connect follow, each once.
        Assert.Equal([lakeside, summit], Section(html, "results"));

        var byState = await PostAsync(new { patient_id = NewPatientId("near"), return_url = Flow.ReturnUrl, patient_state = "mo", recommended_source_ids = new[] { summit } });
        Assert.Equal("MO", (await Flow.GetSessionAsync(byState.Str("id")!)).Str("patient_state"));
        html = await GetAsync(byState.Str("url")!, null);
        Assert.Equal([summit], Section(html, "recommended"));
        Assert.Equal([lakeside], Section(html, "near"));
        Assert.Equal([riverside], Section(html, "results"));

        // Typing replaces the suggestions with matches.
        html = await GetAsync(byState.Str("url") + "?q=riverside", null);
        Assert.Empty(Section(html, "near"));
        Assert.Equal([riverside], Section(html, "results"));
    }

    [Theory]
    [InlineData("patient_zip", "5370")]
    [InlineData("patient_zip", "abcde")]
    [InlineData("patient_zip", 53703)]
    [InlineData("patient_state", "Wisconsin")]
    [InlineData("locale", "fr")]
    [InlineData("locale", "espanol")]
    public async Task A_bad_patient_hint_is_a_400_naming_its_field_and_stores_nothing(string field, object value)
    {
        var patient = NewPatientId("badhint");
        var body = new Dictionary<string, object> { ["patient_id"] = patient, ["return_url"] = Flow.ReturnUrl, [field] = value };
        using var response = await Flow.PostSessionAsync(body);
        var problem = await Json.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains($"\"{field}\"", problem.ToJsonString(), StringComparison.Ordinal);
        // Nothing stored: the patient, which exists from its first session, does not exist.
        using var sessions = await ApiA.GetAsync($"v1/patients/{patient}/patient-sessions", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, sessions.StatusCode);
    }

    private async Task AssertSpanishAsync(string what, string url, HttpStatusCode status, bool byBrowser)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (byBrowser) request.Headers.TryAddWithoutValidation("Accept-Language", "es-MX,es;q=0.9,en;q=0.5");
        using var response = await Anonymous.SendAsync(request, Cancel);
        var html = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(response.StatusCode == status, $"{what}: {(int)response.StatusCode} {html}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        if (!url.Contains("/results", StringComparison.Ordinal)) Assert.Contains("<html lang=\"es\"", html, StringComparison.Ordinal);
        var text = VisibleText(html);
        Assert.True(text.Length > 20, $"{what}: almost no text: {text}");
        var english = EnglishWords().Matches(text).Select(m => m.Value).Distinct().ToList();
        Assert.True(english.Count == 0, $"{what}: English left on the Spanish page ({string.Join(", ", english)}): {text}");
    }

    /// <summary>What a reader sees, without the proper names the page marks translate="no" (organisations, places, portals).</summary>
    private static string VisibleText(string html)
    {
        var text = Regex.Replace(html, "<(script|style)[^>]*>.*?</\\1>", " ", RegexOptions.Singleline | RegexOptions.IgnoreCase);
        text = Regex.Replace(text, "<(\\w+)[^>]*\\stranslate=\"no\"[^>]*>.*?</\\1>", " ", RegexOptions.Singleline);
        text = Regex.Replace(text, "<[^>]+>", " ");
        return Regex.Replace(WebUtility.HtmlDecode(text), "\\s+", " ").Trim();
    }

    private async Task<string> GetAsync(string url, string? acceptLanguage)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (acceptLanguage is not null) request.Headers.TryAddWithoutValidation("Accept-Language", acceptLanguage);
        using var response = await Anonymous.SendAsync(request, Cancel);
        var html = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {html}");
        return html;
    }

    private async Task<System.Text.Json.Nodes.JsonObject> PostAsync(object body)
    {
        using var response = await Flow.PostSessionAsync(body);
        return await Json.ReadAsync(response, HttpStatusCode.Created);
    }

    /// <summary>The source ids listed in the page's &lt;ul id="…"&gt;, in order.</summary>
    private static List<string> Section(string html, string id)
    {
        var list = Regex.Match(html, $"<ul class=\"sources\" id=\"{id}\">(.*?)</ul>", RegexOptions.Singleline);
        return list.Success ? HostedModeTests.Links(list.Groups[1].Value).Select(l => l.SourceId).ToList() : [];
    }

    // Words of our English pages that are not also Spanish: any of them on a Spanish page is a leak.
    [GeneratedRegex(@"\b(the|your|you|provider|providers|search|results|result|link|back|app|connect|records|choose|found|expired|available|sign|could|not|with|this|near|suggested|type|name|more|please|try|again|health|clinic|city|state|code|already|used|valid|online|connection|yet|also|known|something|wrong|reload|page|service|busy|answering|find)\b", RegexOptions.IgnoreCase)]
    private static partial Regex EnglishWords();
}

using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using PatientConnect.Sources;

namespace PatientConnect.Api.Connect;

/// <summary>
/// The patient-facing pages, rendered on the server: plain HTML5 that works without JavaScript, one
/// inline stylesheet, every dynamic value HTML-encoded, every fixed word from <see cref="PageText"/>.
/// Names of organisations, places and portals are marked <c>translate="no"</c>: they are proper names
/// in any language. Element ids and classes are stable for browser tests.
/// </summary>
public static class ConnectHtml
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    // Colours meet WCAG AA contrast on their backgrounds (checked by axe-core in the browser tests).
    private const string Css = """
        *{box-sizing:border-box}
        body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1rem;line-height:1.5;color:#1b1f24;background:#f5f7fa}
        main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem 3rem}
        h1{font-size:1.5rem;margin:.5rem 0 1rem}
        h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
        p{margin:.5rem 0}
        label{display:block;font-weight:600;margin-bottom:.25rem}
        .search{display:flex;gap:.5rem}
        input[type=search]{flex:1;min-width:0;font:inherit;padding:.65rem .75rem;border:1px solid #6b7483;border-radius:.5rem;background:#fff}
        button{font:inherit;font-weight:600;padding:.65rem 1rem;border:0;border-radius:.5rem;background:#0b5cad;color:#fff;cursor:pointer;min-height:2.75rem}
        button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #b35c00;outline-offset:2px}
        ul.sources{list-style:none;margin:0;padding:0}
        ul.sources li{background:#fff;border:1px solid #d6dbe2;border-radius:.5rem;margin:.5rem 0;padding:.75rem;overflow:hidden}
        a.source{display:block;font-weight:600;color:#0b5cad;text-decoration:none;font-size:1.05rem;padding:.15rem 0}
        a.source:hover{text-decoration:underline}
        .where,.detail,.portal{display:block;color:#4a5361;font-size:.9rem}
        .aka{display:block;color:#1b1f24;font-size:.9rem}
        .unavailable{display:block;color:#8a4b00;font-size:.85rem}
        .logo{float:right;width:2.5rem;height:2.5rem;object-fit:contain;margin-left:.5rem}
        .notice{background:#fff;border:1px solid #d6dbe2;border-left:4px solid #0b5cad;border-radius:.5rem;padding:1rem}
        .notice.error{border-left-color:#b3261e}
        .back{margin-top:2rem}
        .back a,.more a{color:#0b5cad;font-weight:600}
        """;

    public static string SearchPage(PageText t, string sessionId, SearchView view, string? returnLink, LogoPolicy logos)
    {
        var body = new StringBuilder();
        body.Append("<h1>").Append(Text(t.SearchTitle)).Append("</h1>");
        body.Append("<p>").Append(Text(t.SearchIntro)).Append("</p>");

        body.Append("<form method=\"get\" action=\"").Append(Attr(ConnectPath(sessionId))).Append("\" role=\"search\" id=\"search-form\" data-results=\"").Append(Attr(ResultsPath(sessionId))).Append("\">");
        body.Append("<label for=\"q\">").Append(Text(t.SearchLabel)).Append("</label>");
        body.Append("<div class=\"search\"><input type=\"search\" id=\"q\" name=\"q\" maxlength=\"200\" autocomplete=\"off\" aria-controls=\"results-region\" value=\"")
            .Append(Attr(view.Query ?? "")).Append("\">");
        body.Append("<button type=\"submit\" id=\"search\">").Append(Text(t.SearchButton)).Append("</button></div></form>");

        // The results live in one region that search-as-you-type (connect.js) refills from
        // ResultsFragment; without JavaScript the form above does the same by reloading the page.
        body.Append("<div id=\"results-region\" aria-live=\"polite\">");
        Results(body, t, sessionId, view, logos);
        body.Append("</div>");

        BackLink(body, t, returnLink);
        return Document(t, t.SearchTitle, body.ToString(), script: ScriptPath);
    }

    /// <summary>Where the page's small enhancement script is served from (same origin, CSP script-src 'self').</summary>
    public const string ScriptPath = "/connect/assets/connect.js";

    public static string ResultsPath(string sessionId) => ConnectPath(sessionId) + "/results";

    /// <summary>Just the results region's content, for search-as-you-type.</summary>
    public static string ResultsFragment(PageText t, string sessionId, SearchView view, LogoPolicy logos)
    {
        var body = new StringBuilder();
        Results(body, t, sessionId, view, logos);
        return body.ToString();
    }

    private static void Results(StringBuilder body, PageText t, string sessionId, SearchView view, LogoPolicy logos)
    {
        if (string.IsNullOrEmpty(view.Query))
        {
            if (view.Recommended.Count > 0)
            {
                body.Append("<section aria-labelledby=\"recommended-title\"><h2 id=\"recommended-title\">").Append(Text(t.Suggested)).Append("</h2>");
                SourceList(body, t, sessionId, "recommended", view.Recommended, logos);
                body.Append("</section>");
            }
            if (view.Near.Count > 0)
            {
                body.Append("<section aria-labelledby=\"near-title\"><h2 id=\"near-title\">").Append(Text(t.NearYou)).Append("</h2>");
                SourceList(body, t, sessionId, "near", view.Near, logos);
                body.Append("</section>");
            }
            if (view.Results.Count > 0)
            {
                body.Append("<section aria-labelledby=\"results-title\"><h2 id=\"results-title\">").Append(Text(t.Available)).Append("</h2>");
                SourceList(body, t, sessionId, "results", view.Results, logos);
                More(body, t, sessionId, null, view.NextCursor);
                body.Append("</section>");
            }
            if (view.Prompt)
            {
                body.Append("<p id=\"prompt\" class=\"notice\">").Append(Text(t.TypeToSearch)).Append("</p>");
            }
            return;
        }

        body.Append("<section aria-labelledby=\"results-title\"><h2 id=\"results-title\">");
        body.Append(Text(string.Format(CultureInfo.InvariantCulture, t.ResultsFor, view.Query)));
        body.Append("</h2>");
        if (view.Results.Count == 0)
        {
            body.Append("<p id=\"no-results\">").Append(Text(t.NoResults)).Append("</p>");
        }
        else
        {
            SourceList(body, t, sessionId, "results", view.Results, logos);
        }
        More(body, t, sessionId, view.Query, view.NextCursor);
        body.Append("</section>");
    }

    private static void More(StringBuilder body, PageText t, string sessionId, string? query, string? nextCursor)
    {
        if (nextCursor is null) return;
        var more = ConnectPath(sessionId) + "?q=" + Uri.EscapeDataString(query ?? "") + "&cursor=" + Uri.EscapeDataString(nextCursor);
        body.Append("<p class=\"more\"><a id=\"more\" href=\"").Append(Attr(more)).Append("\">").Append(Text(t.MoreResults)).Append("</a></p>");
    }

    /// <summary>A dead end explained: expired or finished session, refused source, failed sign-in.</summary>
    public static string MessagePage(PageText t, string title, string message, string? returnLink, string? retryLink = null)
    {
        var body = new StringBuilder();
        body.Append("<h1>").Append(Text(title)).Append("</h1>");
        body.Append("<div class=\"notice error\" role=\"alert\" id=\"message\"><p>").Append(Text(message)).Append("</p></div>");
        if (retryLink is not null)
        {
            body.Append("<p class=\"more\"><a id=\"retry\" href=\"").Append(Attr(retryLink)).Append("\">").Append(Text(t.ChooseAnother)).Append("</a></p>");
        }
        BackLink(body, t, returnLink);
        return Document(t, title, body.ToString());
    }

    /// <summary>An English page, for callers that have no session to take a language from.</summary>
    public static string MessagePage(string title, string message, string? returnLink, string? retryLink = null) =>
        MessagePage(PageText.English, title, message, returnLink, retryLink);

    public static string ConnectPath(string sessionId) => "/connect/" + Uri.EscapeDataString(sessionId);

    public static string StartPath(string sessionId, string sourceId) =>
        ConnectPath(sessionId) + "/start?source_id=" + Uri.EscapeDataString(sourceId);

    private static void SourceList(StringBuilder body, PageText t, string sessionId, string id, IReadOnlyList<SourceView> sources, LogoPolicy logos)
    {
        var details = Lookalikes.Details(sources);
        body.Append("<ul class=\"sources\" id=\"").Append(id).Append("\">");
        for (var i = 0; i < sources.Count; i++)
        {
            var source = sources[i];
            body.Append("<li>");
            if (logos.Allow(source.LogoUrl) is { } logo)
            {
                // Decorative: the name next to it says the same. No referrer, no cookies to the logo's host.
                body.Append("<img class=\"logo\" alt=\"\" width=\"40\" height=\"40\" loading=\"lazy\" referrerpolicy=\"no-referrer\" crossorigin=\"anonymous\" src=\"")
                    .Append(Attr(logo)).Append("\">");
            }
            body.Append("<a class=\"source\" translate=\"no\" data-source-id=\"").Append(Attr(source.Id)).Append("\" href=\"")
                .Append(Attr(StartPath(sessionId, source.Id))).Append("\">").Append(Text(source.Name)).Append("</a>");
            if (source.PortalName is { } portal)
            {
                body.Append("<span class=\"portal\">").Append(WithName(t.PortalLine, portal)).Append("</span>");
            }
            if (source.MatchedName is { } matched)
            {
                body.Append("<span class=\"aka\">").Append(WithName(t.AlsoKnownAs, matched)).Append("</span>");
            }
            var where = Lookalikes.Where(source);
            if (where.Length > 0) body.Append("<span class=\"where\" translate=\"no\">").Append(Text(where)).Append("</span>");
            if (details[i] is { } detail) body.Append("<span class=\"detail\" translate=\"no\">").Append(Text(detail)).Append("</span>");
            if (!source.Connectable)
            {
                body.Append("<span class=\"unavailable\">").Append(Text(t.NotConnectable)).Append("</span>");
            }
            body.Append("</li>");
        }
        body.Append("</ul>");
    }

    // "Also known as {0}": the sentence in the page's language, the name kept as it is.
    private static string WithName(string format, string name)
    {
        var at = format.IndexOf("{0}", StringComparison.Ordinal);
        return Text(format[..at]) + "<span translate=\"no\">" + Text(name) + "</span>" + Text(format[(at + 3)..]);
    }

    private static void BackLink(StringBuilder body, PageText t, string? returnLink)
    {
        if (SafeHttpUrl(returnLink) is { } link)
        {
            body.Append("<p class=\"back\"><a id=\"back\" href=\"").Append(Attr(link)).Append("\">").Append(Text(t.BackToApp)).Append("</a></p>");
        }
    }

    // Only http(s) ever becomes an href: a stored value can never turn into javascript:.
    private static string? SafeHttpUrl(string? url) =>
        url is not null && Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? url
            : null;

    private static string Text(string value) => Html.Encode(value);

    private static string Attr(string value) => Html.Encode(value);

    private static string Document(PageText t, string title, string body, string? script = null) => $"""
        <!DOCTYPE html>
        <html lang="{t.Lang}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <meta name="robots" content="noindex, nofollow">
        <title>{Text(title)} · {Text(t.SiteSuffix)}</title>
        <style>{Css}</style>
        {(script is null ? "" : $"<script src=\"{Attr(script)}\" defer></script>")}
        </head>
        <body>
        <main>
        {body}
        </main>
        </body>
        </html>
        """;
}

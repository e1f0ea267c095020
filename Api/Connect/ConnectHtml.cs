using System.Text;
using System.Text.Encodings.Web;
using PatientConnect.Sources;

namespace PatientConnect.Api.Connect;

/// <summary>
/// The patient-facing pages, rendered on the server: plain HTML5 that works without JavaScript, one
/// inline stylesheet, every dynamic value HTML-encoded. Element ids and classes are stable for browser tests.
/// </summary>
public static class ConnectHtml
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    private const string Css = """
        *{box-sizing:border-box}
        body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1rem;line-height:1.5;color:#1b1f24;background:#f5f7fa}
        main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem 3rem}
        h1{font-size:1.5rem;margin:.5rem 0 1rem}
        h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
        p{margin:.5rem 0}
        label{display:block;font-weight:600;margin-bottom:.25rem}
        .search{display:flex;gap:.5rem}
        input[type=search]{flex:1;min-width:0;font:inherit;padding:.65rem .75rem;border:1px solid #8a94a3;border-radius:.5rem;background:#fff}
        button{font:inherit;font-weight:600;padding:.65rem 1rem;border:0;border-radius:.5rem;background:#0b5cad;color:#fff;cursor:pointer}
        button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #f2a900;outline-offset:2px}
        ul.sources{list-style:none;margin:0;padding:0}
        ul.sources li{background:#fff;border:1px solid #d6dbe2;border-radius:.5rem;margin:.5rem 0;padding:.75rem}
        a.source{display:block;font-weight:600;color:#0b5cad;text-decoration:none;font-size:1.05rem}
        a.source:hover{text-decoration:underline}
        .where{display:block;color:#4a5361;font-size:.9rem}
        .aka{display:block;color:#1b1f24;font-size:.9rem}
        .unavailable{display:block;color:#8a4b00;font-size:.85rem}
        .logo{float:right;width:2rem;height:2rem;object-fit:contain;margin-left:.5rem}
        .notice{background:#fff;border:1px solid #d6dbe2;border-left:4px solid #0b5cad;border-radius:.5rem;padding:1rem}
        .notice.error{border-left-color:#b3261e}
        .back{margin-top:2rem}
        .back a,.more a{color:#0b5cad;font-weight:600}
        """;

    public static string SearchPage(
        string sessionId, string? query, IReadOnlyList<SourceView> recommended, IReadOnlyList<SourceView> results,
        string? nextCursor, string? returnLink)
    {
        var body = new StringBuilder();
        body.Append("<h1>Connect your health records</h1>");
        body.Append("<p>Find your hospital, clinic or health plan, then sign in to its patient portal to share your records.</p>");

        body.Append("<form method=\"get\" action=\"").Append(Attr(ConnectPath(sessionId))).Append("\" role=\"search\" id=\"search-form\" data-results=\"").Append(Attr(ResultsPath(sessionId))).Append("\">");
        body.Append("<label for=\"q\">Search by name, city, state or ZIP code</label>");
        body.Append("<div class=\"search\"><input type=\"search\" id=\"q\" name=\"q\" maxlength=\"200\" autocomplete=\"off\" value=\"")
            .Append(Attr(query ?? "")).Append("\">");
        body.Append("<button type=\"submit\" id=\"search\">Search</button></div></form>");

        if (recommended.Count > 0)
        {
            body.Append("<section aria-labelledby=\"recommended-title\"><h2 id=\"recommended-title\">Suggested for you</h2>");
            SourceList(body, sessionId, "recommended", recommended);
            body.Append("</section>");
        }

        // The results live in one region that search-as-you-type (connect.js) refills from
        // ResultsFragment; without JavaScript the form above does the same by reloading the page.
        body.Append("<div id=\"results-region\" aria-live=\"polite\">");
        Results(body, sessionId, query, results, nextCursor);
        body.Append("</div>");

        BackLink(body, returnLink);
        return Document("Connect your health records", body.ToString(), script: ScriptPath);
    }

    /// <summary>Where the page's small enhancement script is served from (same origin, CSP script-src 'self').</summary>
    public const string ScriptPath = "/connect/assets/connect.js";

    public static string ResultsPath(string sessionId) => ConnectPath(sessionId) + "/results";

    /// <summary>Just the results region's content, for search-as-you-type.</summary>
    public static string ResultsFragment(string sessionId, string? query, IReadOnlyList<SourceView> results, string? nextCursor)
    {
        var body = new StringBuilder();
        Results(body, sessionId, query, results, nextCursor);
        return body.ToString();
    }

    private static void Results(StringBuilder body, string sessionId, string? query, IReadOnlyList<SourceView> results, string? nextCursor)
    {
        body.Append("<section aria-labelledby=\"results-title\"><h2 id=\"results-title\">");
        body.Append(string.IsNullOrEmpty(query) ? "All providers" : "Results for \u201C" + Text(query) + "\u201D");
        body.Append("</h2>");
        if (results.Count == 0)
        {
            body.Append("<p id=\"no-results\">No provider matches your search. Try a shorter name, a city or a ZIP code.</p>");
        }
        else
        {
            SourceList(body, sessionId, "results", results);
        }
        if (nextCursor is not null)
        {
            var more = ConnectPath(sessionId) + "?q=" + Uri.EscapeDataString(query ?? "") + "&cursor=" + Uri.EscapeDataString(nextCursor);
            body.Append("<p class=\"more\"><a id=\"more\" href=\"").Append(Attr(more)).Append("\">More results</a></p>");
        }
        body.Append("</section>");
    }

    /// <summary>A dead end explained: expired or finished session, refused source, failed sign-in.</summary>
    public static string MessagePage(string title, string message, string? returnLink, string? retryLink = null)
    {
        var body = new StringBuilder();
        body.Append("<h1>").Append(Text(title)).Append("</h1>");
        body.Append("<div class=\"notice error\" role=\"alert\" id=\"message\"><p>").Append(Text(message)).Append("</p></div>");
        if (retryLink is not null)
        {
            body.Append("<p class=\"more\"><a id=\"retry\" href=\"").Append(Attr(retryLink)).Append("\">Choose another provider</a></p>");
        }
        BackLink(body, returnLink);
        return Document(title, body.ToString());
    }

    public static string ConnectPath(string sessionId) => "/connect/" + Uri.EscapeDataString(sessionId);

    public static string StartPath(string sessionId, string sourceId) =>
        ConnectPath(sessionId) + "/start?source_id=" + Uri.EscapeDataString(sourceId);

    private static void SourceList(StringBuilder body, string sessionId, string id, IReadOnlyList<SourceView> sources)
    {
        body.Append("<ul class=\"sources\" id=\"").Append(id).Append("\">");
        foreach (var source in sources)
        {
            body.Append("<li>");
            if (SafeHttpUrl(source.LogoUrl) is { } logo)
            {
                body.Append("<img class=\"logo\" alt=\"\" loading=\"lazy\" src=\"").Append(Attr(logo)).Append("\">");
            }
            body.Append("<a class=\"source\" data-source-id=\"").Append(Attr(source.Id)).Append("\" href=\"")
                .Append(Attr(StartPath(sessionId, source.Id))).Append("\">").Append(Text(source.Name)).Append("</a>");
            if (source.MatchedName is { } matched)
            {
                body.Append("<span class=\"aka\">Also known as ").Append(Text(matched)).Append("</span>");
            }
            var where = Where(source);
            if (where.Length > 0) body.Append("<span class=\"where\">").Append(Text(where)).Append("</span>");
            if (!source.Connectable)
            {
                body.Append("<span class=\"unavailable\">Online connection not available yet</span>");
            }
            body.Append("</li>");
        }
        body.Append("</ul>");
    }

    // "Madison, WI 53703", with whatever parts the directory has.
    private static string Where(SourceView source)
    {
        var region = string.Join(" ", new[] { source.State, source.Zip }.Where(s => !string.IsNullOrWhiteSpace(s)));
        return string.Join(", ", new[] { source.City, region }.Where(s => !string.IsNullOrWhiteSpace(s)));
    }

    private static void BackLink(StringBuilder body, string? returnLink)
    {
        if (SafeHttpUrl(returnLink) is { } link)
        {
            body.Append("<p class=\"back\"><a id=\"back\" href=\"").Append(Attr(link)).Append("\">Back to the app</a></p>");
        }
    }

    // Only http(s) ever becomes an href or src: a stored value can never turn into javascript:.
    private static string? SafeHttpUrl(string? url) =>
        url is not null && Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? url
            : null;

    private static string Text(string value) => Html.Encode(value);

    private static string Attr(string value) => Html.Encode(value);

    private static string Document(string title, string body, string? script = null) => $"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <meta name="robots" content="noindex, nofollow">
        <title>{Text(title)} · PatientConnect</title>
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

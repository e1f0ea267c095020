using System.Text;
using PatientConnect.Sessions;
using PatientConnect.Sources;

namespace PatientConnect.Api.Connect;

/// <summary>
/// The patient's side: the hosted connect page and the OAuth callback. No API key here: the
/// unguessable session id is the capability, and nothing tenant-private beyond it is shown.
/// </summary>
public static class ConnectApi
{
    public static IEndpointRouteBuilder MapConnectApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/connect/{sessionId}", Page).ExcludeFromDescription();
        endpoints.MapGet("/connect/{sessionId}/start", Start).ExcludeFromDescription();
        endpoints.MapGet("/connect/{sessionId}/results", Results).ExcludeFromDescription();
        endpoints.MapGet(ConnectHtml.ScriptPath, Script).ExcludeFromDescription();
        endpoints.MapGet(LogoFiles.RoutePattern, LogoFiles.Serve).ExcludeFromDescription();
        endpoints.MapGet("/oauth/callback", Callback).ExcludeFromDescription();
        return endpoints;
    }

    // ---- The hosted search page (GET /connect/{ps}, /results, /start): language, listing, lookalikes ----

    private static async Task<IResult> Page(
        string sessionId, string? q, string? cursor, HttpContext http, IClusterClient cluster, TimeProvider time, IConfiguration configuration)
    {
        if (!Ids.IsValid(sessionId, Ids.SessionPrefix)) return NotFoundPage(http, PageText.Choose(http, null));
        var session = cluster.GetGrain<IPatientSessionGrain>(sessionId);
        var page = await session.GetConnectPage();
        if (page is null) return NotFoundPage(http, PageText.Choose(http, null));
        var text = PageText.Choose(http, page.Hints?.Locale);
        if (Closed(page, time, text) is { } closed) return closed(http);

        if (page.DirectSourceId is { } direct)
        {
            return await Begin(http, session, sessionId, direct);
        }

        var settings = HostedPageSettings.From(configuration);
        var view = await HostedSearch.ViewAsync(cluster.GetGrain<ISourceDirectoryGrain>(0), page, Trimmed(q, 200), Trimmed(cursor, 1024), settings);
        return Html(http, StatusCodes.Status200OK, ConnectHtml.SearchPage(text, sessionId, view, page.ReturnLink, settings.Logos), settings.Logos);
    }

    /// <summary>The results region alone, for search-as-you-type on an open session's page.</summary>
    private static async Task<IResult> Results(
        string sessionId, string? q, string? cursor, HttpContext http, IClusterClient cluster, TimeProvider time, IConfiguration configuration)
    {
        if (!Ids.IsValid(sessionId, Ids.SessionPrefix)) return NotFoundPage(http, PageText.Choose(http, null));
        var page = await cluster.GetGrain<IPatientSessionGrain>(sessionId).GetConnectPage();
        if (page is null) return NotFoundPage(http, PageText.Choose(http, null));
        var text = PageText.Choose(http, page.Hints?.Locale);
        if (Closed(page, time, text) is { } closed) return closed(http);

        var settings = HostedPageSettings.From(configuration);
        var view = await HostedSearch.ViewAsync(cluster.GetGrain<ISourceDirectoryGrain>(0), page, Trimmed(q, 200), Trimmed(cursor, 1024), settings);
        return Html(http, StatusCodes.Status200OK, ConnectHtml.ResultsFragment(text, sessionId, view, settings.Logos), settings.Logos);
    }

    private static IResult Script(HttpContext http)
    {
        http.Response.Headers.CacheControl = "public, max-age=3600";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.Text(ConnectScript.Source, "text/javascript; charset=utf-8", Encoding.UTF8);
    }

    private static async Task<IResult> Start(
        string sessionId, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "source_id")] string? sourceId,
        HttpContext http, IClusterClient cluster, TimeProvider time)
    {
        if (!Ids.IsValid(sessionId, Ids.SessionPrefix)) return NotFoundPage(http, PageText.Choose(http, null));
        var session = cluster.GetGrain<IPatientSessionGrain>(sessionId);
        if (!Ids.IsValid(sourceId, Ids.SourcePrefix))
        {
            var page = await session.GetConnectPage();
            var text = PageText.Choose(http, page?.Hints?.Locale);
            if (page is null) return NotFoundPage(http, text);
            return Html(http, StatusCodes.Status400BadRequest, ConnectHtml.MessagePage(
                text, text.ChooseTitle, text.ChooseMessage, page.ReturnLink, ConnectHtml.ConnectPath(sessionId)));
        }
        return await Begin(http, session, sessionId, sourceId!);
    }

    private static async Task<IResult> Begin(HttpContext http, IPatientSessionGrain session, string sessionId, string sourceId)
    {
        var step = await session.BeginConnect(sourceId);
        if (step.AuthorizeUrl is { } authorize)
        {
            NoStore(http);
            return TypedResults.Redirect(authorize);
        }

        return await RefusalPage(http, session, sessionId, step);
    }

    private static async Task<IResult> Callback(
        string? state, string? code, string? error,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "error_description")] string? errorDescription,
        HttpContext http, IClusterClient cluster)
    {
        var sessionId = OAuthState.SessionIdOf(state);
        // The refusal page is chosen by the browser's language: an unknown state names no session.
        var text = PageText.Choose(http, null);
        if (sessionId is null)
        {
            return Html(http, StatusCodes.Status400BadRequest,
                ConnectHtml.MessagePage(text, text.SignInFailedTitle, text.SignInInvalidMessage, null));
        }

        // Safe to repeat (see CompleteCallback): a call cut off by a silo loss is retried, and a
        // reload of this URL shows the outcome recorded the first time.
        var outcome = await cluster.GetGrain<IPatientSessionGrain>(sessionId)
            .CompleteCallback(new OAuthCallback(state!, code, error, errorDescription));
        if (outcome.RedirectUrl is { } redirect)
        {
            NoStore(http);
            return TypedResults.Redirect(redirect);
        }
        return Html(http, StatusCodes.Status400BadRequest,
            ConnectHtml.MessagePage(text, text.SignInFailedTitle, text.SignInInvalidMessage, null));
    }

    /// <summary>The page for a session that no longer takes a connection, or null while it is open.</summary>
    private static Func<HttpContext, IResult>? Closed(ConnectPage page, TimeProvider time, PageText text)
    {
        // The expiry reminder may lag behind the clock by a moment; the page never offers a dead link.
        if (page.Status == SessionStatus.Expired || (page.Status == SessionStatus.Open && page.ExpiresAt <= time.GetUtcNow()))
        {
            return http => Html(http, StatusCodes.Status410Gone, ConnectHtml.MessagePage(text, text.ExpiredTitle, text.ExpiredMessage, page.ReturnLink));
        }
        if (page.Status == SessionStatus.Complete)
        {
            return http => Html(http, StatusCodes.Status410Gone, ConnectHtml.MessagePage(text, text.UsedTitle, text.UsedMessage, page.ReturnLink));
        }
        return null;
    }

    /// <summary>
    /// Why a chosen source was not opened, in the session's language. The grain's own message is
    /// English and precise ("X cannot be connected yet"): shown on English pages, replaced by the
    /// translation of its kind on the others.
    /// </summary>
    private static async Task<IResult> RefusalPage(HttpContext http, IPatientSessionGrain session, string sessionId, ConnectStep step)
    {
        var page = await session.GetConnectPage();
        var text = PageText.Choose(http, page?.Hints?.Locale);
        // The grain says which rule refused; the page status follows: the link is over (410), the EHR
        // failed (502), or this source cannot be used (400, with a way back to the list).
        var (status, title, message) = step.Refusal switch
        {
            ConnectRefusal.SessionNotFound => (StatusCodes.Status404NotFound, text.NotFoundTitle, text.NotFoundMessage),
            ConnectRefusal.SessionOver => (StatusCodes.Status410Gone, text.GoneTitle, text.GoneMessage),
            ConnectRefusal.EhrUnavailable => (StatusCodes.Status502BadGateway, text.EhrDownTitle, text.EhrDownMessage),
            _ => (StatusCodes.Status400BadRequest, text.RefusedTitle, text.RefusedMessage),
        };
        if (text.Lang == PageText.English.Lang && step.ErrorMessage is { } exact) message = exact;
        var retry = step.Refusal is not (ConnectRefusal.SessionNotFound or ConnectRefusal.SessionOver);
        return Html(http, status, ConnectHtml.MessagePage(text, title, message, step.ReturnLink, retry ? ConnectHtml.ConnectPath(sessionId) : null));
    }

    private static IResult NotFoundPage(HttpContext http, PageText text) =>
        Html(http, StatusCodes.Status404NotFound, ConnectHtml.MessagePage(text, text.NotFoundTitle, text.NotFoundMessage, null));

    // ---- end of the hosted search page's handlers ----

    private static IResult Html(HttpContext http, int status, string html, LogoPolicy? logos = null)
    {
        NoStore(http);
        var headers = http.Response.Headers;
        // Images only from our origin and the operator's allow-listed logo hosts: nothing else can
        // learn that a patient opened the page.
        headers.ContentSecurityPolicy =
            $"default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src {(logos ?? LogoPolicy.None).ImageSources()}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        return TypedResults.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    // Session links are capabilities: keep them out of caches and out of Referer headers sent to EHRs.
    private static void NoStore(HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
    }

    private static string? Trimmed(string? value, int max)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed)) return null;
        return trimmed.Length > max ? trimmed[..max] : trimmed;
    }
}

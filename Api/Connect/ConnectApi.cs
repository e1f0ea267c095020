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
    private const int ResultsPerPage = 20;

    public static IEndpointRouteBuilder MapConnectApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/connect/{sessionId}", Page).ExcludeFromDescription();
        endpoints.MapGet("/connect/{sessionId}/start", Start).ExcludeFromDescription();
        endpoints.MapGet("/connect/{sessionId}/results", Results).ExcludeFromDescription();
        endpoints.MapGet(ConnectHtml.ScriptPath, Script).ExcludeFromDescription();
        endpoints.MapGet("/oauth/callback", Callback).ExcludeFromDescription();
        return endpoints;
    }

    private static async Task<IResult> Page(
        string sessionId, string? q, string? cursor, HttpContext http, IClusterClient cluster, TimeProvider time)
    {
        if (!Ids.IsValid(sessionId, Ids.SessionPrefix)) return NotFoundPage(http);
        var session = cluster.GetGrain<IPatientSessionGrain>(sessionId);
        var page = await session.GetConnectPage();
        if (page is null) return NotFoundPage(http);
        if (Closed(page, time) is { } closed) return closed(http);

        if (page.DirectSourceId is { } direct)
        {
            return await Begin(http, session, sessionId, direct);
        }

        var query = Trimmed(q, 200);
        var directory = cluster.GetGrain<ISourceDirectoryGrain>(0);
        var recommended = page.RecommendedSourceIds.Count > 0 && cursor is null
            ? await directory.GetMany(page.RecommendedSourceIds)
            : [];
        var results = await SearchAsync(directory, query, cursor);
        // Recommended sources are shown once, at the top.
        var shown = recommended.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var rest = results.Data.Where(s => !shown.Contains(s.Id)).ToList();

        return Html(http, StatusCodes.Status200OK,
            ConnectHtml.SearchPage(sessionId, query, recommended, rest, results.NextCursor, page.ReturnLink));
    }

    /// <summary>The results region alone, for search-as-you-type on an open session's page.</summary>
    private static async Task<IResult> Results(
        string sessionId, string? q, string? cursor, HttpContext http, IClusterClient cluster, TimeProvider time)
    {
        if (!Ids.IsValid(sessionId, Ids.SessionPrefix)) return NotFoundPage(http);
        var page = await cluster.GetGrain<IPatientSessionGrain>(sessionId).GetConnectPage();
        if (page is null) return NotFoundPage(http);
        if (Closed(page, time) is { } closed) return closed(http);

        var query = Trimmed(q, 200);
        var results = await SearchAsync(cluster.GetGrain<ISourceDirectoryGrain>(0), query, cursor);
        var recommended = cursor is null ? page.RecommendedSourceIds.ToHashSet(StringComparer.Ordinal) : [];
        var rest = results.Data.Where(s => !recommended.Contains(s.Id)).ToList();
        return Html(http, StatusCodes.Status200OK, ConnectHtml.ResultsFragment(sessionId, query, rest, results.NextCursor));
    }

    // A patient's page never fails on a stale or edited "More results" link: it starts the list over.
    private static async Task<Common.Page<SourceView>> SearchAsync(ISourceDirectoryGrain directory, string? query, string? cursor)
    {
        try
        {
            return await directory.Search(new SourceQuery(query, null, null, null, null, ResultsPerPage, Trimmed(cursor, 1024)));
        }
        catch (ArgumentException) when (cursor is not null)
        {
            return await directory.Search(new SourceQuery(query, null, null, null, null, ResultsPerPage, null));
        }
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
        if (!Ids.IsValid(sessionId, Ids.SessionPrefix)) return NotFoundPage(http);
        var session = cluster.GetGrain<IPatientSessionGrain>(sessionId);
        if (!Ids.IsValid(sourceId, Ids.SourcePrefix))
        {
            var page = await session.GetConnectPage();
            if (page is null) return NotFoundPage(http);
            return Html(http, StatusCodes.Status400BadRequest, ConnectHtml.MessagePage(
                "Choose a provider", "That provider link is not valid. Please pick your provider from the list.",
                page.ReturnLink, ConnectHtml.ConnectPath(sessionId)));
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

        var (status, title, retry) = Refusal(step.ErrorCode);
        return Html(http, status, ConnectHtml.MessagePage(
            title,
            step.ErrorMessage ?? "We could not start the connection to this provider.",
            step.ReturnLink,
            retry ? ConnectHtml.ConnectPath(sessionId) : null));
    }

    private static async Task<IResult> Callback(
        string? state, string? code, string? error,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "error_description")] string? errorDescription,
        HttpContext http, IClusterClient cluster)
    {
        var sessionId = OAuthState.SessionIdOf(state);
        if (sessionId is null)
        {
            return Html(http, StatusCodes.Status400BadRequest, ConnectHtml.MessagePage(
                "This sign-in could not be completed",
                "The response from the patient portal is missing or has an invalid state. Go back to the app and start again.",
                null));
        }

        var outcome = await cluster.GetGrain<IPatientSessionGrain>(sessionId)
            .CompleteCallback(new OAuthCallback(state!, code, error, errorDescription));
        if (outcome.RedirectUrl is { } redirect)
        {
            NoStore(http);
            return TypedResults.Redirect(redirect);
        }
        return Html(http, StatusCodes.Status400BadRequest, ConnectHtml.MessagePage(
            "This sign-in could not be completed",
            outcome.ErrorMessage ?? "This sign-in link is invalid or was already used. Go back to the app and start again.",
            null));
    }

    /// <summary>The page for a session that no longer takes a connection, or null while it is open.</summary>
    private static Func<HttpContext, IResult>? Closed(ConnectPage page, TimeProvider time)
    {
        // The expiry reminder may lag behind the clock by a moment; the page never offers a dead link.
        if (page.Status == SessionStatus.Expired || (page.Status == SessionStatus.Open && page.ExpiresAt <= time.GetUtcNow()))
        {
            return http => Html(http, StatusCodes.Status410Gone, ConnectHtml.MessagePage(
                "This link has expired",
                "This connection link is no longer valid. Go back to the app to get a new one.",
                page.ReturnLink));
        }
        if (page.Status == SessionStatus.Complete)
        {
            return http => Html(http, StatusCodes.Status410Gone, ConnectHtml.MessagePage(
                "This link has already been used",
                "You have already finished with this connection link. Go back to the app to continue.",
                page.ReturnLink));
        }
        return null;
    }

    // The grain's codes say why; the page status follows: the link is over (410), the EHR failed
    // (502), or this source cannot be used (400, with a way back to the list).
    private static (int Status, string Title, bool Retry) Refusal(string? code) => code switch
    {
        null => (StatusCodes.Status400BadRequest, "We could not connect to this provider", true),
        _ when code.StartsWith("session_not_found", StringComparison.Ordinal) =>
            (StatusCodes.Status404NotFound, "Link not found", false),
        _ when code.StartsWith("session_", StringComparison.Ordinal) || code.Contains("expired", StringComparison.Ordinal) =>
            (StatusCodes.Status410Gone, "This link is no longer valid", false),
        _ when code.StartsWith("ehr_", StringComparison.Ordinal) || code.Contains("discovery", StringComparison.Ordinal)
            || code.Contains("unavailable", StringComparison.Ordinal) =>
            (StatusCodes.Status502BadGateway, "The provider's portal is not answering", true),
        _ => (StatusCodes.Status400BadRequest, "We could not connect to this provider", true),
    };

    private static IResult NotFoundPage(HttpContext http) =>
        Html(http, StatusCodes.Status404NotFound, ConnectHtml.MessagePage(
            "Link not found",
            "This connection link does not exist. Check that you opened the whole link, or go back to the app for a new one.",
            null));

    private static IResult Html(HttpContext http, int status, string html)
    {
        NoStore(http);
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy =
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src https: http: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
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

using System.Net;
using System.Web;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>The one slow test: a session with the shortest allowed lifetime (60 s) ages out.</summary>
public sealed class SessionExpiryTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Fact]
    public async Task Expired_session_is_refused_listed_as_expired_and_sends_session_expired_back()
    {
        var patient = NewPatientId("expiry");
        var riverside = await Flow.SourceIdAsync("riverside");
        var session = await Flow.CreateSessionAsync(patient, riverside, expiresIn: 60);
        var sessionId = session.Str("id")!;
        var expiresAt = DateTimeOffset.Parse(session.Str("expires_at")!);
        Assert.InRange((expiresAt - DateTimeOffset.Parse(session.Str("created_at")!)).TotalSeconds, 59, 61);
        var hosted = await Flow.CreateSessionAsync(patient, expiresIn: 60);

        // The patient got as far as the EHR's consent while the link was live, and comes back late.
        var callback = await Flow.ConsentAsync(await Flow.OpenDirectAsync(session.Str("url")!));

        var wait = expiresAt - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5);
        if (wait > TimeSpan.Zero) await Task.Delay(wait, Cancel);

        // The reminder fires on its own; a GET is enough to see it, without touching the page first.
        var expired = await Flow.GetSessionAsync(sessionId);
        Assert.Equal("expired", expired.Str("status"));
        Assert.Null(expired.Str("connection_id"));
        Assert.Equal("expired", (await Flow.GetSessionAsync(hosted.Str("id")!)).Str("status"));

        var listed = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions?status=expired");
        Assert.Equal([hosted.Str("id"), sessionId], listed["data"]!.AsArray().Select(s => s.Str("id")).ToList());
        var open = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions?status=open");
        Assert.Empty(open["data"]!.AsArray());

        // The link no longer leads to the EHR: a clear page with a way back to the app.
        foreach (var url in new[] { session.Str("url")!, hosted.Str("url")!, hosted.Str("url") + "?q=Riverside" })
        {
            using var page = await Anonymous.GetAsync(url, Cancel);
            var html = await page.Content.ReadAsStringAsync(Cancel);
            Assert.True(page.StatusCode is HttpStatusCode.OK or HttpStatusCode.Gone, $"{url}: {(int)page.StatusCode}");
            Assert.Null(page.Headers.Location);
            Assert.Contains("expired", html, StringComparison.OrdinalIgnoreCase);
            Assert.Empty(HostedModeTests.Links(html));
        }

        // The late callback connects nothing; if it goes back to the app, it says session_expired.
        using var late = await Flow.CallbackAsync(callback);
        if (late.Headers.Location is not null)
        {
            var result = await Flow.ReturnParametersAsync(late);
            Assert.Equal("false", result["success"]);
            Assert.Equal("session_expired", result["error"]);
            Assert.Equal(sessionId, result["patient_session_id"]);
        }
        else
        {
            Assert.True((int)late.StatusCode is >= 400 and < 500, $"{(int)late.StatusCode}");
            var html = await late.Content.ReadAsStringAsync(Cancel);
            Assert.Contains("session_expired", HttpUtility.HtmlDecode(html), StringComparison.Ordinal);
        }
        Assert.Empty((await Json.GetAsync(ApiA, $"v1/patients/{patient}/connections"))["data"]!.AsArray());
        Assert.Equal("expired", (await Flow.GetSessionAsync(sessionId)).Str("status"));
    }
}

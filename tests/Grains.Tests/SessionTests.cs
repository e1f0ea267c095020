using PatientConnect.Connections;
using PatientConnect.Patients;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Tests;

public sealed class SessionTests(ClusterFixture f)
{
    private const string A = ClusterFixture.TenantA;
    private const string B = ClusterFixture.TenantB;

    private IPatientGrain Patient(string tenant, string patient) => f.Grains.GetGrain<IPatientGrain>(Ids.PatientKey(tenant, patient));

    [Fact]
    public async Task Created_session_is_open_with_its_link_and_metadata()
    {
        var patient = TestData.NewPatientId();
        var view = await f.CreateSessionAsync(A, patient);
        Assert.True(Ids.IsValid(view.Id, Ids.SessionPrefix));
        Assert.Equal(SessionStatus.Open, view.Status);
        Assert.Equal($"{ClusterFixture.PublicBaseUrl}/connect/{view.Id}", view.Url);
        Assert.Equal("""{"plan":"gold"}""", view.MetadataJson);
        Assert.Equal(f.Clock.GetUtcNow() + TimeSpan.FromHours(1), view.ExpiresAt);
        Assert.Equal(view, await f.Grains.GetGrain<IPatientSessionGrain>(view.Id).Get(A));
    }

    [Fact]
    public async Task A_retried_create_finds_the_session_its_first_attempt_stored_and_another_tenant_cannot_take_its_id()
    {
        var patient = TestData.NewPatientId();
        var opener = f.Grains.GetGrain<ISessionOpenerGrain>(0);
        var request = TestData.Request(A, patient) with { SessionId = Ids.NewSessionId() };
        var first = await opener.Open(request);
        f.Clock.Advance(TimeSpan.FromSeconds(5));
        var again = await opener.Open(request);

        Assert.Equal(first.Session, again.Session);
        Assert.Equal([first.Session!.Id], (await Patient(A, patient).ListSessions(new SessionListQuery(null, 50, null))).Data.Select(v => v.Id));
        // The same id for another tenant is never answered with the stored session.
        await Assert.ThrowsAnyAsync<Exception>(() => opener.Open(TestData.Request(B, patient) with { SessionId = request.SessionId }));
        Assert.Null(await f.Grains.GetGrain<IPatientSessionGrain>(request.SessionId!).Get(B));
        Assert.Equal(first.Session, await f.Grains.GetGrain<IPatientSessionGrain>(request.SessionId!).Get(A));
    }

    [Fact]
    public async Task Unknown_source_id_is_refused_naming_the_field()
    {
        var patient = TestData.NewPatientId();
        var result = await Patient(A, patient).CreateSession(TestData.Request(A, patient, sourceId: "src_doesnotexist"));
        Assert.Null(result.Session);
        Assert.Equal("source_id", result.InvalidField);
        Assert.Empty((await Patient(A, patient).ListSessions(new SessionListQuery(null, 50, null))).Data);
    }

    [Fact]
    public async Task A_listed_but_unconnectable_source_is_refused_for_direct_mode()
    {
        var patient = TestData.NewPatientId();
        var result = await Patient(A, patient).CreateSession(TestData.Request(A, patient, sourceId: f.SourceId("unregistered")));
        Assert.Equal("source_id", result.InvalidField);
        Assert.Contains("cannot be connected", result.Error);
    }

    [Fact]
    public async Task Unknown_recommended_source_is_refused_naming_the_field()
    {
        var patient = TestData.NewPatientId();
        var result = await Patient(A, patient).CreateSession(
            TestData.Request(A, patient, recommended: [f.SourceId("riverside"), "src_nope"]));
        Assert.Equal("recommended_source_ids", result.InvalidField);
    }

    [Theory]
    [InlineData("http://app.test/back")]
    [InlineData("http://127.0.0.1:5000/back")]
    [InlineData("/relative")]
    [InlineData("https://user:pw@app.test/back")]
    [InlineData("javascript:alert(1)")]
    public async Task Return_url_must_be_https_unless_loopback_http_is_allowed(string returnUrl)
    {
        var patient = TestData.NewPatientId();
        var result = await Patient(A, patient).CreateSession(TestData.Request(A, patient, returnUrl: returnUrl));
        Assert.Equal("return_url", result.InvalidField);
    }

    [Fact]
    public void Loopback_http_return_urls_pass_only_when_allowed()
    {
        Assert.Null(SessionRules.CheckReturnUrl("http://127.0.0.1:5000/back", allowLoopbackHttp: true));
        Assert.Null(SessionRules.CheckReturnUrl("http://localhost/back", allowLoopbackHttp: true));
        Assert.Null(SessionRules.CheckReturnUrl("http://[::1]:80/back", allowLoopbackHttp: true));
        Assert.NotNull(SessionRules.CheckReturnUrl("http://127.0.0.2/back", allowLoopbackHttp: true));
        Assert.NotNull(SessionRules.CheckReturnUrl("http://10.0.0.1/back", allowLoopbackHttp: true));
    }

    [Fact]
    public async Task Another_tenant_sees_no_session_and_no_connection()
    {
        var patient = TestData.NewPatientId();
        var session = await f.CreateSessionAsync(A, patient, f.SourceId("riverside"));
        Assert.Null(await f.Grains.GetGrain<IPatientSessionGrain>(session.Id).Get(B));
        Assert.Null(await f.Grains.GetGrain<IPatientSessionGrain>(Ids.NewSessionId()).Get(A));

        await f.Grains.GetGrain<IPatientSessionGrain>(session.Id).CompleteCallback(await f.ApproveAsync(session.Id, f.SourceId("riverside")));
        var connectionId = (await f.Grains.GetGrain<IPatientSessionGrain>(session.Id).Get(A))!.ConnectionId!;
        Assert.NotNull(await f.Grains.GetGrain<IConnectionGrain>(connectionId).Get(A));
        Assert.Null(await f.Grains.GetGrain<IConnectionGrain>(connectionId).Get(B));

        // The same patient id under tenant B is a different patient with nothing in it.
        Assert.Empty((await Patient(B, patient).ListSessions(new SessionListQuery(null, 50, null))).Data);
        Assert.Empty(await Patient(B, patient).ListConnections());
    }

    [Fact]
    public async Task List_is_newest_first_and_pages_stay_stable_when_sessions_are_added()
    {
        var patient = TestData.NewPatientId();
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await f.CreateSessionAsync(A, patient)).Id);
            f.Clock.Advance(TimeSpan.FromSeconds(1));
        }
        created.Reverse();

        var first = await Patient(A, patient).ListSessions(new SessionListQuery(null, 2, null));
        Assert.Equal(created[..2], first.Data.Select(s => s.Id));
        Assert.NotNull(first.NextCursor);

        // A new session at the head must not shift the next page.
        await f.CreateSessionAsync(A, patient);
        var second = await Patient(A, patient).ListSessions(new SessionListQuery(null, 2, first.NextCursor));
        Assert.Equal(created[2..4], second.Data.Select(s => s.Id));
        var third = await Patient(A, patient).ListSessions(new SessionListQuery(null, 2, second.NextCursor));
        Assert.Equal(created[4..], third.Data.Select(s => s.Id));
        Assert.Null(third.NextCursor);
    }

    [Fact]
    public async Task List_filters_by_status()
    {
        var patient = TestData.NewPatientId();
        var riverside = f.SourceId("riverside");
        var completed = await f.CreateSessionAsync(A, patient, riverside);
        var shortLived = await f.CreateSessionAsync(A, patient, expiresIn: TimeSpan.FromSeconds(60));
        var open = await f.CreateSessionAsync(A, patient);
        await f.Grains.GetGrain<IPatientSessionGrain>(completed.Id).CompleteCallback(await f.ApproveAsync(completed.Id, riverside));
        f.Clock.Advance(TimeSpan.FromSeconds(61));

        async Task<string[]> Ids(SessionStatus status) =>
            (await Patient(A, patient).ListSessions(new SessionListQuery(status, 50, null))).Data.Select(s => s.Id).ToArray();

        Assert.Equal([open.Id], await Ids(SessionStatus.Open));
        Assert.Equal([completed.Id], await Ids(SessionStatus.Complete));
        Assert.Equal([shortLived.Id], await Ids(SessionStatus.Expired));
        var expiredView = (await Patient(A, patient).ListSessions(new SessionListQuery(SessionStatus.Expired, 50, null))).Data.Single();
        Assert.Equal(SessionStatus.Expired, expiredView.Status);
    }

    [Fact]
    public async Task Link_stops_working_at_expires_at_even_before_the_reminder()
    {
        var patient = TestData.NewPatientId();
        var session = await f.CreateSessionAsync(A, patient, expiresIn: TimeSpan.FromSeconds(60));
        var grain = f.Grains.GetGrain<IPatientSessionGrain>(session.Id);
        var callback = await f.ApproveAsync(session.Id, f.SourceId("riverside"));

        f.Clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(SessionStatus.Expired, (await grain.Get(A))!.Status);
        Assert.Equal(SessionStatus.Expired, (await grain.GetConnectPage())!.Status);

        // The patient comes back from the portal too late: back to the app with session_expired, no tokens fetched.
        var requestsBefore = f.Ehr.TokenRequests.Count;
        var outcome = await grain.CompleteCallback(callback);
        Assert.Equal("session_expired", outcome.ErrorCode);
        var query = TestData.QueryOf(outcome.RedirectUrl!);
        Assert.Equal("false", query["success"]);
        Assert.Equal("session_expired", query["error"]);
        Assert.Equal(session.Id, query["patient_session_id"]);
        Assert.Equal(requestsBefore, f.Ehr.TokenRequests.Count);

        var step = await grain.BeginConnect(f.SourceId("riverside"));
        Assert.Equal("session_expired", step.ErrorCode);
        Assert.Null(step.AuthorizeUrl);
        Assert.Contains("error=session_expired", step.ReturnLink);
        Assert.Empty(await Patient(A, patient).ListConnections());
    }

    [Fact]
    public async Task Durable_schedule_records_the_expiry_and_the_list_shows_it()
    {
        var patient = TestData.NewPatientId();
        var sessionId = Ids.NewSessionId();
        var grain = f.Grains.GetGrain<IPatientSessionGrain>(sessionId);
        // Straight to the session grain: the patient grain's 60 s floor would make this test wait a minute.
        await grain.Create(TestData.Request(A, patient, expiresIn: TimeSpan.FromSeconds(2)));
        f.Clock.Advance(TimeSpan.FromSeconds(3));

        // Moving the clock back shows whether "expired" was stored (the scheduler woke the grain) or only
        // computed (clock).
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            f.Clock.Advance(TimeSpan.FromSeconds(-3));
            var status = (await grain.Get(A))!.Status;
            // The list reads the stored rows: with the clock before expires_at, only a stored expiry shows.
            var listed = status == SessionStatus.Expired
                ? (await Patient(A, patient).ListSessions(new SessionListQuery(SessionStatus.Expired, 50, null))).Data.Select(v => v.Id).ToArray()
                : [];
            f.Clock.Advance(TimeSpan.FromSeconds(3));
            if (status == SessionStatus.Expired)
            {
                Assert.Equal([sessionId], listed);
                return;
            }
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }
        Assert.Fail("The session scheduler did not mark the session expired within 20 s.");
    }
}

using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using PatientConnect.Connections;
using PatientConnect.Patients;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Tests;

public sealed class ConnectFlowTests(ClusterFixture f)
{
    private const string A = ClusterFixture.TenantA;

    private IPatientSessionGrain Session(string id) => f.Grains.GetGrain<IPatientSessionGrain>(id);

    private static void AssertSuccess(CallbackOutcome outcome) =>
        Assert.True(outcome.ErrorCode is null, $"{outcome.ErrorCode}: {outcome.ErrorMessage}");

    [Fact]
    public async Task Authorize_url_carries_pkce_state_aud_and_the_servers_scopes()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var step = await Session(session.Id).BeginConnect(f.SourceId("riverside"));
        Assert.Null(step.ErrorCode);
        Assert.StartsWith($"{f.Ehr.Origin}/riverside/auth/authorize?vendor=fake&", step.AuthorizeUrl);
        var q = TestData.QueryOf(step.AuthorizeUrl!);
        Assert.Equal("code", q["response_type"]);
        Assert.Equal("pc-public", q["client_id"]);
        Assert.Equal($"{ClusterFixture.PublicBaseUrl}/oauth/callback", q["redirect_uri"]);
        Assert.Equal(f.Ehr.FhirBase("riverside"), q["aud"]);
        Assert.Equal("S256", q["code_challenge_method"]);
        Assert.Equal(43, q["code_challenge"].Length);
        Assert.Equal(session.Id, OAuthState.SessionIdOf(q["state"]));
        // riverside lists its scopes: only those are asked for.
        Assert.Equal(
            ["patient/Patient.rs", "patient/Condition.rs", "patient/Observation.rs", "launch/patient", "openid", "fhirUser", "offline_access"],
            q["scope"].Split(' '));
    }

    [Fact]
    public async Task Approval_completes_the_session_with_an_active_connection()
    {
        var patient = TestData.NewPatientId();
        var riverside = f.SourceId("riverside");
        var session = await f.CreateSessionAsync(A, patient, riverside);
        var outcome = await Session(session.Id).CompleteCallback(await f.ApproveAsync(session.Id, riverside, "fhir-77"));

        AssertSuccess(outcome);
        var q = TestData.QueryOf(outcome.RedirectUrl!);
        Assert.StartsWith("https://app.test/back?x=1&", outcome.RedirectUrl);
        Assert.Equal("true", q["success"]);
        Assert.Equal(patient, q["patient_id"]);
        Assert.Equal(session.Id, q["patient_session_id"]);

        var view = (await Session(session.Id).Get(A))!;
        Assert.Equal(SessionStatus.Complete, view.Status);
        Assert.Equal(ConnectionStatus.Active, view.ConnectionStatus);
        Assert.Equal(q["connection_id"], view.ConnectionId);
        Assert.NotNull(view.CompletedAt);

        var connection = (await f.Grains.GetGrain<IConnectionGrain>(view.ConnectionId!).Get(A))!;
        Assert.Equal(ConnectionStatus.Active, connection.Status);
        Assert.Equal(riverside, connection.SourceId);
        Assert.Equal("fhir-77", connection.FhirPatientId);
        Assert.Equal(f.Ehr.GrantedScope.Split(' '), connection.Scopes);
        Assert.Equal(SyncStatus.Pending, connection.Sync.Status);
        Assert.Equal([view.ConnectionId], (await f.Grains.GetGrain<IPatientGrain>(Ids.PatientKey(A, patient)).ListConnections()).Select(c => c.Id));

        // Public client: client_id in the body, no secret, the PKCE verifier sent.
        var request = f.Ehr.TokenRequests.Last();
        Assert.Equal("pc-public", request.Form["client_id"]);
        Assert.Null(request.Authorization);
        Assert.Equal("authorization_code", request.Form["grant_type"]);
    }

    [Fact]
    public async Task A_second_session_for_the_same_source_reconnects_the_same_connection()
    {
        var patient = TestData.NewPatientId();
        var riverside = f.SourceId("riverside");
        var first = await f.CreateSessionAsync(A, patient);
        await Session(first.Id).CompleteCallback(await f.ApproveAsync(first.Id, riverside));
        var second = await f.CreateSessionAsync(A, patient);
        await Session(second.Id).CompleteCallback(await f.ApproveAsync(second.Id, riverside, "fhir-new"));

        var firstId = (await Session(first.Id).Get(A))!.ConnectionId;
        var secondId = (await Session(second.Id).Get(A))!.ConnectionId;
        Assert.NotNull(firstId);
        Assert.Equal(firstId, secondId);
        var connections = await f.Grains.GetGrain<IPatientGrain>(Ids.PatientKey(A, patient)).ListConnections();
        Assert.Equal("fhir-new", Assert.Single(connections).FhirPatientId);
    }

    [Fact]
    public async Task Listing_sessions_during_a_slow_code_exchange_does_not_deadlock()
    {
        var patient = TestData.NewPatientId();
        var session = await f.CreateSessionAsync(A, patient);
        var callback = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        f.Ehr.TokenDelayMs = 1000;
        try
        {
            var completing = Session(session.Id).CompleteCallback(callback);
            await Task.Delay(300, TestContext.Current.CancellationToken);
            // The patient grain asks the busy session grain for its view while the session will, in a
            // moment, ask the patient grain for a connection id.
            var listing = f.Grains.GetGrain<IPatientGrain>(Ids.PatientKey(A, patient)).ListSessions(new SessionListQuery(null, 50, null));
            var both = Task.WhenAll(completing, listing);
            Assert.Same(both, await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)));
            AssertSuccess(await completing);
            Assert.Equal(session.Id, Assert.Single((await listing).Data).Id);
        }
        finally
        {
            f.Ehr.TokenDelayMs = 0;
        }
    }

    [Fact]
    public async Task Repeated_callback_shows_the_recorded_outcome_without_a_second_exchange()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var callback = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        var first = await Session(session.Id).CompleteCallback(callback);
        AssertSuccess(first);
        var exchanges = f.Ehr.TokenRequests.Count;

        // A reload of the callback URL, or a retry of a call whose answer was lost.
        var repeat = await Session(session.Id).CompleteCallback(callback);
        AssertSuccess(repeat);
        Assert.Equal(first.RedirectUrl, repeat.RedirectUrl);
        Assert.Equal("true", TestData.QueryOf(repeat.RedirectUrl!)["success"]);
        Assert.Equal(exchanges, f.Ehr.TokenRequests.Count);
    }

    [Fact]
    public async Task Used_state_with_another_code_is_refused_without_a_second_exchange()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var callback = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        AssertSuccess(await Session(session.Id).CompleteCallback(callback));
        var exchanges = f.Ehr.TokenRequests.Count;

        var replay = await Session(session.Id).CompleteCallback(callback with { Code = "another-code" });
        Assert.Equal("invalid_state", replay.ErrorCode);
        Assert.Null(replay.RedirectUrl);
        Assert.Equal(exchanges, f.Ehr.TokenRequests.Count);
    }

    [Fact]
    public async Task Failure_between_code_exchange_and_connection_activation_is_finished_by_the_repeated_callback()
    {
        var patient = TestData.NewPatientId();
        var session = await f.CreateSessionAsync(A, patient);
        var callback = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        CallbackOutcome first;
        // The connection cannot be reached right after the code was exchanged (more failures than
        // the silo's own retries absorb): the outcome is recorded, the activation is not.
        using (FaultInjection.Fail("IConnectionGrain.Activate", 100))
        {
            first = await Session(session.Id).CompleteCallback(callback);
        }
        AssertSuccess(first);
        var connectionId = TestData.QueryOf(first.RedirectUrl!)["connection_id"];
        Assert.False(string.IsNullOrEmpty(connectionId));
        var recorded = (await Session(session.Id).Get(A))!;
        Assert.Equal(SessionStatus.Complete, recorded.Status);
        Assert.Equal(connectionId, recorded.ConnectionId);
        Assert.Null(await f.Grains.GetGrain<IConnectionGrain>(connectionId).Get(A));
        var exchanges = f.Ehr.TokenRequests.Count;

        var again = await Session(session.Id).CompleteCallback(callback);
        AssertSuccess(again);
        Assert.Equal(first.RedirectUrl, again.RedirectUrl);
        var connection = (await f.Grains.GetGrain<IConnectionGrain>(connectionId).Get(A))!;
        Assert.Equal(ConnectionStatus.Active, connection.Status);
        Assert.Equal(exchanges, f.Ehr.TokenRequests.Count);
        var listed = await f.Grains.GetGrain<IPatientGrain>(Ids.PatientKey(A, patient)).ListConnections();
        Assert.Equal(connectionId, Assert.Single(listed).Id);
    }

    [Fact]
    public async Task Failure_between_code_exchange_and_connection_activation_is_finished_when_the_session_activates_again()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var callback = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        CallbackOutcome first;
        using (FaultInjection.Fail("IConnectionGrain.Activate", 100))
        {
            first = await Session(session.Id).CompleteCallback(callback);
        }
        var connectionId = TestData.QueryOf(first.RedirectUrl!)["connection_id"];
        Assert.Null(await f.Grains.GetGrain<IConnectionGrain>(connectionId).Get(A));

        // As after a silo loss: the activation is gone; the app polling the session brings it back.
        await f.Grains.GetGrain<IPatientSessionGrain>(session.Id).Cast<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle(TestContext.Current.CancellationToken);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        ConnectionView? connection = null;
        while (DateTime.UtcNow < deadline)
        {
            Assert.Equal(SessionStatus.Complete, (await Session(session.Id).Get(A))!.Status);
            connection = await f.Grains.GetGrain<IConnectionGrain>(connectionId).Get(A);
            if (connection is not null) break;
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.Equal(ConnectionStatus.Active, connection?.Status);
    }

    [Fact]
    public async Task Tampered_or_foreign_state_is_refused_and_the_real_one_still_works()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var callback = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        var chars = callback.State.ToCharArray();
        chars[^1] = chars[^1] == 'a' ? 'b' : 'a';

        Assert.Equal("invalid_state", (await Session(session.Id).CompleteCallback(callback with { State = new string(chars) })).ErrorCode);
        Assert.Equal("invalid_state", (await Session(session.Id).CompleteCallback(callback with { State = session.Id })).ErrorCode);
        // The state of this session sent to another session grain proves nothing there.
        var other = await f.CreateSessionAsync(A, TestData.NewPatientId());
        await f.ApproveAsync(other.Id, f.SourceId("riverside"));
        Assert.Equal("invalid_state", (await Session(other.Id).CompleteCallback(callback)).ErrorCode);
        Assert.Equal("invalid_state", (await Session(Ids.NewSessionId()).CompleteCallback(callback)).ErrorCode);

        Assert.Null((await Session(session.Id).CompleteCallback(callback)).ErrorCode);
    }

    [Fact]
    public async Task A_new_attempt_invalidates_the_state_of_the_previous_one()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var stale = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        var fresh = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        Assert.Equal("invalid_state", (await Session(session.Id).CompleteCallback(stale)).ErrorCode);
        Assert.Null((await Session(session.Id).CompleteCallback(fresh)).ErrorCode);
    }

    [Fact]
    public async Task Denied_consent_completes_session_without_connection()
    {
        var patient = TestData.NewPatientId();
        var session = await f.CreateSessionAsync(A, patient);
        var callback = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        var outcome = await Session(session.Id).CompleteCallback(callback with { Code = null, Error = "access_denied", ErrorDescription = "User said no" });

        Assert.Equal("access_denied", outcome.ErrorCode);
        var q = TestData.QueryOf(outcome.RedirectUrl!);
        Assert.Equal("false", q["success"]);
        Assert.Equal("access_denied", q["error"]);
        Assert.False(q.ContainsKey("connection_id"));
        var view = (await Session(session.Id).Get(A))!;
        Assert.Equal(SessionStatus.Complete, view.Status);
        Assert.Equal("access_denied", view.Error);
        Assert.Null(view.ConnectionId);
        Assert.Empty(await f.Grains.GetGrain<IPatientGrain>(Ids.PatientKey(A, patient)).ListConnections());
    }

    [Fact]
    public async Task Denial_on_reconnect_leaves_the_existing_connection_untouched()
    {
        var patient = TestData.NewPatientId();
        var riverside = f.SourceId("riverside");
        var first = await f.CreateSessionAsync(A, patient);
        await Session(first.Id).CompleteCallback(await f.ApproveAsync(first.Id, riverside));
        var before = Assert.Single(await f.Grains.GetGrain<IPatientGrain>(Ids.PatientKey(A, patient)).ListConnections());

        var second = await f.CreateSessionAsync(A, patient);
        var callback = await f.ApproveAsync(second.Id, riverside);
        await Session(second.Id).CompleteCallback(callback with { Code = null, Error = "access_denied" });
        var after = Assert.Single(await f.Grains.GetGrain<IPatientGrain>(Ids.PatientKey(A, patient)).ListConnections());
        Assert.Equal((before.Status, before.UpdatedAt, before.FhirPatientId), (after.Status, after.UpdatedAt, after.FhirPatientId));
        Assert.Equal(before.Scopes, after.Scopes);
    }

    [Fact]
    public async Task Token_endpoint_error_after_approval_fails_the_connection()
    {
        var patient = TestData.NewPatientId();
        var session = await f.CreateSessionAsync(A, patient);
        var callback = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        f.Ehr.Mode = TokenMode.InvalidGrant;
        CallbackOutcome outcome;
        try
        {
            outcome = await Session(session.Id).CompleteCallback(callback);
        }
        finally
        {
            f.Ehr.Mode = TokenMode.Ok;
        }

        Assert.Equal("ehr_error", outcome.ErrorCode);
        var q = TestData.QueryOf(outcome.RedirectUrl!);
        Assert.Equal("false", q["success"]);
        Assert.Equal("ehr_error", q["error"]);
        Assert.Contains("invalid_grant", q["error_description"]);
        var view = (await Session(session.Id).Get(A))!;
        Assert.Equal(SessionStatus.Complete, view.Status);
        Assert.Equal(ConnectionStatus.Failed, view.ConnectionStatus);
        Assert.Equal(q["connection_id"], view.ConnectionId);
        var connection = (await f.Grains.GetGrain<IConnectionGrain>(view.ConnectionId!).Get(A))!;
        Assert.Equal(ConnectionStatus.Failed, connection.Status);
        Assert.Equal("token_exchange_failed", connection.FailureCode);
    }

    [Fact]
    public async Task Token_endpoint_outage_is_an_ehr_error_and_is_not_retried()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var callback = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        var before = f.Ehr.TokenRequests.Count;
        f.Ehr.Mode = TokenMode.ServerError;
        try
        {
            Assert.Equal("ehr_error", (await Session(session.Id).CompleteCallback(callback)).ErrorCode);
        }
        finally
        {
            f.Ehr.Mode = TokenMode.Ok;
        }
        Assert.Equal(before + 1, f.Ehr.TokenRequests.Count);
        var connection = (await f.Grains.GetGrain<IConnectionGrain>((await Session(session.Id).Get(A))!.ConnectionId!).Get(A))!;
        Assert.Equal("ehr_error", connection.FailureCode);
    }

    [Fact]
    public async Task An_id_token_for_another_audience_fails_the_connection()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var callback = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        f.Ehr.Mode = TokenMode.WrongIdTokenAudience;
        try
        {
            Assert.Equal("ehr_error", (await Session(session.Id).CompleteCallback(callback)).ErrorCode);
        }
        finally
        {
            f.Ehr.Mode = TokenMode.Ok;
        }
        var connection = (await f.Grains.GetGrain<IConnectionGrain>((await Session(session.Id).Get(A))!.ConnectionId!).Get(A))!;
        Assert.Equal(ConnectionStatus.Failed, connection.Status);
        Assert.Equal("id_token_invalid", connection.FailureCode);
        Assert.Empty(connection.Scopes);
    }

    [Fact]
    public async Task A_grant_without_patient_context_fails_the_connection()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var callback = await f.ApproveAsync(session.Id, f.SourceId("riverside"));
        f.Ehr.Mode = TokenMode.NoPatientContext;
        try
        {
            Assert.Equal("ehr_error", (await Session(session.Id).CompleteCallback(callback)).ErrorCode);
        }
        finally
        {
            f.Ehr.Mode = TokenMode.Ok;
        }
        var view = (await Session(session.Id).Get(A))!;
        Assert.Equal(ConnectionStatus.Failed, view.ConnectionStatus);
        Assert.Contains("patient", view.ErrorDescription);
    }

    [Fact]
    public async Task Omitted_scope_in_the_token_response_means_the_requested_scopes()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var step = await Session(session.Id).BeginConnect(f.SourceId("riverside"));
        var q = TestData.QueryOf(step.AuthorizeUrl!);
        f.Ehr.IssueCode("code-noscope-" + session.Id, q["code_challenge"], "fhir-1");
        f.Ehr.Mode = TokenMode.NoScope;
        try
        {
            await Session(session.Id).CompleteCallback(new OAuthCallback(q["state"], "code-noscope-" + session.Id, null, null));
        }
        finally
        {
            f.Ehr.Mode = TokenMode.Ok;
        }
        var connection = (await f.Grains.GetGrain<IConnectionGrain>((await Session(session.Id).Get(A))!.ConnectionId!).Get(A))!;
        Assert.Equal(q["scope"].Split(' '), connection.Scopes);
    }

    [Fact]
    public async Task Confidential_client_authenticates_with_basic_and_v1_scopes()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var step = await Session(session.Id).BeginConnect(f.SourceId("lakeside"));
        Assert.Contains("patient%2FObservation.read", step.AuthorizeUrl);
        var q = TestData.QueryOf(step.AuthorizeUrl!);
        f.Ehr.IssueCode("code-basic-" + session.Id, q["code_challenge"], "fhir-2");
        var outcome = await Session(session.Id).CompleteCallback(new OAuthCallback(q["state"], "code-basic-" + session.Id, null, null));
        AssertSuccess(outcome);

        var request = f.Ehr.TokenRequests.Last();
        Assert.False(request.Form.ContainsKey("client_id"));
        var pair = Encoding.UTF8.GetString(Convert.FromBase64String(request.Authorization!["Basic ".Length..]));
        Assert.Equal("pc-confidential:s3cret%3A%20%26x", pair);
    }

    [Fact]
    public async Task Private_key_jwt_client_sends_a_signed_assertion()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var callback = await f.ApproveAsync(session.Id, f.SourceId("keyed"));
        Assert.Null((await Session(session.Id).CompleteCallback(callback)).ErrorCode);

        var request = f.Ehr.TokenRequests.Last();
        Assert.Equal("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", request.Form["client_assertion_type"]);
        var assertion = new JsonWebToken(request.Form["client_assertion"]);
        Assert.Equal("RS384", assertion.Alg);
        Assert.Equal("k1", assertion.Kid);
        Assert.Equal("pc-jwt", assertion.Issuer);
        Assert.Equal("pc-jwt", assertion.Subject);
        Assert.Equal($"{f.Ehr.Origin}/keyed/auth/token", Assert.Single(assertion.Audiences));
        Assert.False(string.IsNullOrEmpty(assertion.Id));
        Assert.True(assertion.ValidTo > assertion.IssuedAt && assertion.ValidTo <= assertion.IssuedAt.AddMinutes(5));
    }

    [Fact]
    public async Task Discovery_is_cached_for_a_few_minutes_then_fetched_again()
    {
        var keyed = f.SourceId("keyed");
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        await Session(session.Id).BeginConnect(keyed);
        var afterFirst = f.Ehr.DiscoveryRequests["keyed"];
        await Session(session.Id).BeginConnect(keyed);
        Assert.Equal(afterFirst, f.Ehr.DiscoveryRequests["keyed"]);
        f.Clock.Advance(TimeSpan.FromMinutes(6));
        await Session(session.Id).BeginConnect(keyed);
        Assert.Equal(afterFirst + 1, f.Ehr.DiscoveryRequests["keyed"]);
    }

    [Fact]
    public async Task Metadata_fallback_discovers_a_server_without_well_known()
    {
        var session = await f.CreateSessionAsync(A, TestData.NewPatientId());
        var step = await Session(session.Id).BeginConnect(f.SourceId("legacy"));
        Assert.Null(step.ErrorCode);
        Assert.StartsWith($"{f.Ehr.Origin}/legacy/auth/authorize?", step.AuthorizeUrl);
        Assert.Contains("patient%2FObservation.read", step.AuthorizeUrl);
    }

    [Fact]
    public async Task Begin_connect_refuses_what_it_cannot_do()
    {
        var hosted = await f.CreateSessionAsync(A, TestData.NewPatientId());
        Assert.Equal("unknown_source", (await Session(hosted.Id).BeginConnect("src_nothing")).ErrorCode);
        Assert.Equal("source_not_connectable", (await Session(hosted.Id).BeginConnect(f.SourceId("unregistered"))).ErrorCode);
        var down = await Session(hosted.Id).BeginConnect(f.SourceId("down"));
        Assert.Equal("ehr_unavailable", down.ErrorCode);
        Assert.NotNull(down.ReturnLink);

        var direct = await f.CreateSessionAsync(A, TestData.NewPatientId(), f.SourceId("riverside"));
        Assert.Equal("source_not_allowed", (await Session(direct.Id).BeginConnect(f.SourceId("lakeside"))).ErrorCode);
        Assert.Equal(f.SourceId("riverside"), (await Session(direct.Id).GetConnectPage())!.DirectSourceId);

        await Session(direct.Id).CompleteCallback(await f.ApproveAsync(direct.Id, f.SourceId("riverside")));
        var done = await Session(direct.Id).BeginConnect(f.SourceId("riverside"));
        Assert.Equal("session_complete", done.ErrorCode);
        Assert.Contains("success=true", done.ReturnLink);

        Assert.Equal("session_not_found", (await Session(Ids.NewSessionId()).BeginConnect(f.SourceId("riverside"))).ErrorCode);
        Assert.Null(await Session(Ids.NewSessionId()).GetConnectPage());
    }
}

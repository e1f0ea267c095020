using System.Net;
using System.Web;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>The OAuth state is bound to its session, unguessable and usable once.</summary>
public sealed class CallbackSecurityTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Fact]
    public async Task Tampered_state_is_refused_and_the_real_one_still_completes()
    {
        var patient = NewPatientId("tamper");
        var session = await Flow.CreateSessionAsync(patient, await Flow.SourceIdAsync("riverside"));
        var callback = await Flow.ConsentAsync(await Flow.OpenDirectAsync(session.Str("url")!));
        var state = HttpUtility.ParseQueryString(callback.Query)["state"]!;

        // The last character of the random part changed; then a state routed to another session.
        var flipped = state[..^1] + (state[^1] == 'a' ? 'b' : 'a');
        var other = await Flow.CreateSessionAsync(NewPatientId("other"));
        var rerouted = other.Str("id") + state[state.IndexOf('.')..];
        foreach (var bad in new[] { flipped, rerouted, "garbage", "" })
        {
            using var response = await Flow.CallbackAsync(WithState(callback, bad));
            await AssertRefusedAsync(response, $"state '{bad}'");
        }

        var untouched = await Flow.GetSessionAsync(session.Str("id")!);
        Assert.Equal("open", untouched.Str("status"));
        Assert.Equal("open", (await Flow.GetSessionAsync(other.Str("id")!)).Str("status"));
        Assert.Empty((await Json.GetAsync(ApiA, $"v1/patients/{patient}/connections"))["data"]!.AsArray());

        using var genuine = await Flow.CallbackAsync(callback);
        var result = await Flow.ReturnParametersAsync(genuine);
        Assert.Equal("true", result["success"]);
    }

    [Fact]
    public async Task Repeated_callback_after_success_lands_on_return_url_with_the_same_connection_and_changes_nothing()
    {
        var patient = NewPatientId("replay");
        var session = await Flow.CreateSessionAsync(patient, await Flow.SourceIdAsync("riverside"));
        var callback = await Flow.ConsentAsync(await Flow.OpenDirectAsync(session.Str("url")!));
        string? connectionId;
        using (var first = await Flow.CallbackAsync(callback))
        {
            var result = await Flow.ReturnParametersAsync(first);
            Assert.Equal("true", result["success"]);
            connectionId = result["connection_id"];
        }
        var completed = await Flow.GetSessionAsync(session.Str("id")!);
        var connection = await Flow.GetConnectionAsync(connectionId!);

        // The patient reloads the callback page (or the browser retries it): back to the app, same outcome.
        using var replay = await Flow.CallbackAsync(callback);
        var again = await Flow.ReturnParametersAsync(replay);
        Assert.Equal("true", again["success"]);
        Assert.Equal(connectionId, again["connection_id"]);

        var after = await Flow.GetSessionAsync(session.Str("id")!);
        Assert.Equal(completed.ToJsonString(), after.ToJsonString());
        Assert.Equal(connection.Str("connected_at"), (await Flow.GetConnectionAsync(connectionId!)).Str("connected_at"));
        Assert.Single((await Json.GetAsync(ApiA, $"v1/patients/{patient}/connections"))["data"]!.AsArray());
    }

    [Fact]
    public async Task Replayed_state_with_a_new_code_is_refused()
    {
        var patient = NewPatientId("restate");
        var session = await Flow.CreateSessionAsync(patient, await Flow.SourceIdAsync("riverside"));
        var authorize = await Flow.OpenDirectAsync(session.Str("url")!);
        var callback = await Flow.ConsentAsync(authorize);
        using (var first = await Flow.CallbackAsync(callback))
        {
            Assert.Equal("true", (await Flow.ReturnParametersAsync(first))["success"]);
        }
        var connectionId = (await Flow.GetSessionAsync(session.Str("id")!)).Str("connection_id")!;
        var before = await Flow.GetConnectionAsync(connectionId);

        // The same authorize request again (same state) yields a fresh, valid code from the EHR:
        // a state already used must not be accepted with it.
        var second = await Flow.ConsentAsync(authorize);
        Assert.NotEqual(HttpUtility.ParseQueryString(callback.Query)["code"], HttpUtility.ParseQueryString(second.Query)["code"]);
        using var replay = await Flow.CallbackAsync(second);
        await AssertRefusedAsync(replay, "a used state with a new code");

        var after = await Flow.GetConnectionAsync(connectionId);
        Assert.Equal(before.Str("connected_at"), after.Str("connected_at"));
        Assert.Equal(before.Str("last_refreshed_at"), after.Str("last_refreshed_at"));
    }

    [Fact]
    public async Task Callback_without_state_or_for_an_unknown_session_is_refused()
    {
        using var none = await Anonymous.GetAsync("oauth/callback?code=abc", Cancel);
        await AssertRefusedAsync(none, "no state");
        using var unknown = await Anonymous.GetAsync("oauth/callback?code=abc&state=ps_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Cancel);
        await AssertRefusedAsync(unknown, "unknown session");
    }

    private static Uri WithState(Uri callback, string state)
    {
        var query = HttpUtility.ParseQueryString(callback.Query);
        query["state"] = state;
        return new UriBuilder(callback) { Query = query.ToString() }.Uri;
    }

    /// <summary>A refusal is an error page: a 4xx and no redirect, neither to the app nor back to the EHR.</summary>
    private static async Task AssertRefusedAsync(HttpResponseMessage response, string what)
    {
        var body = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{what}: {(int)response.StatusCode} {response.Headers.Location} {body}");
        Assert.Null(response.Headers.Location);
    }
}

using System.Net;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>Direct mode against the real sandbox: approve, deny, reconnect.</summary>
public sealed class ConnectFlowTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Theory]
    [InlineData("riverside")] // public client, PKCE only
    [InlineData("lakeside")]  // confidential client, client_secret_basic
    [InlineData("summit")]    // payer profile
    public async Task Approved_consent_completes_session_with_an_active_connection(string hospital)
    {
        var patient = NewPatientId(hospital);
        var sourceId = await Flow.SourceIdAsync(hospital);
        var session = await Flow.CreateSessionAsync(patient, sourceId);
        Assert.Equal(sourceId, session.Str("source_id"));
        var sessionId = session.Str("id")!;

        var authorize = await Flow.OpenDirectAsync(session.Str("url")!);
        var query = System.Web.HttpUtility.ParseQueryString(authorize.Query);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal(Services.FhirBase(hospital).TrimEnd('/'), query["aud"]?.TrimEnd('/'));
        Assert.Equal(new Uri(Services.ApiBase, "oauth/callback").ToString(), query["redirect_uri"]);
        Assert.Contains("launch/patient", query["scope"]!.Split(' '));
        Assert.Contains("offline_access", query["scope"]!.Split(' '));
        // At least 128 bits of state beyond the session id it routes by.
        Assert.True(query["state"]!.Length >= sessionId.Length + 22, query["state"]);

        var callback = await Flow.ConsentAsync(authorize, "approve");
        using var back = await Flow.CallbackAsync(callback);
        var result = await Flow.ReturnParametersAsync(back);
        Assert.Equal("true", result["success"]);
        Assert.Equal(patient, result["patient_id"]);
        Assert.Equal(sessionId, result["patient_session_id"]);
        var connectionId = result["connection_id"];
        Assert.StartsWith("conn_", connectionId, StringComparison.Ordinal);
        Assert.Null(result["error"]);

        var completed = await Flow.GetSessionAsync(sessionId);
        Assert.Equal("complete", completed.Str("status"));
        Assert.Equal(connectionId, completed.Str("connection_id"));
        Assert.Equal("active", completed.Str("connection_status"));
        Assert.NotNull(completed.Str("completed_at"));
        Assert.Null(completed.Str("error"));

        var connection = await Flow.GetConnectionAsync(connectionId!);
        Assert.Equal("active", connection.Str("status"));
        Assert.Equal(patient, connection.Str("patient_id"));
        Assert.Equal(sourceId, connection.Str("source_id"));
        Assert.False(string.IsNullOrEmpty(connection.Str("fhir_patient_id")));
        var scopes = connection["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).ToList();
        Assert.Contains(scopes, s => s.StartsWith("patient/", StringComparison.Ordinal));
        Assert.NotNull(connection.Str("connected_at"));
        Assert.NotNull(connection.Str("access_expires_at"));
        var text = connection.ToJsonString();
        Assert.DoesNotContain("access_token", text, StringComparison.Ordinal);
        Assert.DoesNotContain("refresh_token", text, StringComparison.Ordinal);

        // The granted patient is one the sandbox has.
        var patients = JsonNode.Parse(await Anonymous.GetStringAsync(new Uri(Services.SandboxBase, $"hospitals/{hospital}/patients"), Cancel))!.AsArray();
        Assert.Contains(connection.Str("fhir_patient_id"), patients.Select(p => p.Str("id")));

        var list = await Json.GetAsync(ApiA, $"v1/patients/{patient}/connections");
        Assert.Equal([connectionId], list["data"]!.AsArray().Select(c => c.Str("id")).ToList());
    }

    [Fact]
    public async Task Denied_consent_completes_session_without_connection()
    {
        var patient = NewPatientId("deny");
        var (session, result) = await Flow.ConnectAsync(patient, "riverside", "deny");

        Assert.Equal("false", result["success"]);
        Assert.Equal("access_denied", result["error"]);
        Assert.Equal(patient, result["patient_id"]);
        Assert.Equal(session.Str("id"), result["patient_session_id"]);
        Assert.Null(result["connection_id"]);

        Assert.Equal("complete", session.Str("status"));
        Assert.Equal("access_denied", session.Str("error"));
        Assert.Null(session.Str("connection_id"));
        Assert.NotNull(session.Str("completed_at"));

        var connections = await Json.GetAsync(ApiA, $"v1/patients/{patient}/connections");
        Assert.Empty(connections["data"]!.AsArray());
    }

    [Fact]
    public async Task Denied_consent_leaves_an_existing_connection_unchanged()
    {
        var patient = NewPatientId("keep");
        var (first, _) = await Flow.ConnectAsync(patient, "riverside");
        var connectionId = first.Str("connection_id")!;
        var before = await Flow.GetConnectionAsync(connectionId);

        var (denied, result) = await Flow.ConnectAsync(patient, "riverside", "deny");
        Assert.Equal("access_denied", result["error"]);
        Assert.Null(denied.Str("connection_id"));

        var after = await Flow.GetConnectionAsync(connectionId);
        Assert.Equal("active", after.Str("status"));
        Assert.Equal(before.Str("connected_at"), after.Str("connected_at"));
    }

    [Fact]
    public async Task Second_session_for_same_patient_and_source_reuses_the_connection()
    {
        var patient = NewPatientId("again");
        var (first, firstResult) = await Flow.ConnectAsync(patient, "lakeside");
        var (second, secondResult) = await Flow.ConnectAsync(patient, "lakeside");

        Assert.Equal("true", firstResult["success"]);
        Assert.Equal("true", secondResult["success"]);
        Assert.NotEqual(first.Str("id"), second.Str("id"));
        Assert.Equal(first.Str("connection_id"), second.Str("connection_id"));
        Assert.Equal(firstResult["connection_id"], secondResult["connection_id"]);

        var connections = await Json.GetAsync(ApiA, $"v1/patients/{patient}/connections");
        var only = Assert.Single(connections["data"]!.AsArray());
        Assert.Equal("active", only.Str("status"));

        // Another source is another connection.
        var (third, _) = await Flow.ConnectAsync(patient, "riverside");
        Assert.NotEqual(first.Str("connection_id"), third.Str("connection_id"));
        connections = await Json.GetAsync(ApiA, $"v1/patients/{patient}/connections");
        Assert.Equal(2, connections["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task Error_from_the_token_endpoint_fails_the_connection_with_a_code()
    {
        var patient = NewPatientId("tokerr");
        var session = await Flow.CreateSessionAsync(patient, await Flow.SourceIdAsync("riverside"));
        var authorize = await Flow.OpenDirectAsync(session.Str("url")!);
        var callback = await Flow.ConsentAsync(authorize, "approve");
        // A code the sandbox never issued: the token endpoint answers invalid_grant after "approval".
        var forged = new UriBuilder(callback)
        {
            Query = System.Text.RegularExpressions.Regex.Replace(callback.Query.TrimStart('?'), "(^|&)code=[^&]*", "$1code=forged-code"),
        }.Uri;
        using var back = await Flow.CallbackAsync(forged);
        var result = await Flow.ReturnParametersAsync(back);
        Assert.Equal("false", result["success"]);
        Assert.False(string.IsNullOrEmpty(result["error"]));

        var completed = await Flow.GetSessionAsync(session.Str("id")!);
        Assert.Equal("complete", completed.Str("status"));
        Assert.False(string.IsNullOrEmpty(completed.Str("error")));
        if (completed.Str("connection_id") is { } connectionId)
        {
            var connection = await Flow.GetConnectionAsync(connectionId);
            Assert.Equal("failed", connection.Str("status"));
            Assert.False(string.IsNullOrEmpty(connection.Str("failure_code")));
        }
    }
}

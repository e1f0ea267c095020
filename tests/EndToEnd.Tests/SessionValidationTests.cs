using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>Each invalid field of POST /v1/patient-sessions is a 400 problem naming it, and nothing is written.</summary>
public sealed class SessionValidationTests(ServiceProcesses services) : EndToEndTest(services)
{
    private const string Valid = "http://127.0.0.1:9/back";

    public static TheoryData<string, string> InvalidBodies => new()
    {
        // field, body with {patient} and {return} placeholders
        { "patient_id", """{"return_url":"{return}"}""" },
        { "patient_id", """{"patient_id":"","return_url":"{return}"}""" },
        { "patient_id", """{"patient_id":"has space","return_url":"{return}"}""" },
        { "patient_id", """{"patient_id":"a/b","return_url":"{return}"}""" },
        { "patient_id", "{\"patient_id\":\"" + new string('x', 65) + "\",\"return_url\":\"{return}\"}" },
        { "patient_id", """{"patient_id":123,"return_url":"{return}"}""" },
        { "return_url", """{"patient_id":"{patient}"}""" },
        { "return_url", """{"patient_id":"{patient}","return_url":"not a url"}""" },
        { "return_url", """{"patient_id":"{patient}","return_url":"/relative/path"}""" },
        { "return_url", """{"patient_id":"{patient}","return_url":"http://app.example/connected"}""" },
        { "return_url", """{"patient_id":"{patient}","return_url":"ftp://127.0.0.1/x"}""" },
        { "return_url", """{"patient_id":"{patient}","return_url":"javascript:alert(1)"}""" },
        { "source_id", """{"patient_id":"{patient}","return_url":"{return}","source_id":"riverside"}""" },
        { "source_id", """{"patient_id":"{patient}","return_url":"{return}","source_id":"src_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""" },
        { "source_id", """{"patient_id":"{patient}","return_url":"{return}","source_id":42}""" },
        { "recommended_source_ids", """{"patient_id":"{patient}","return_url":"{return}","recommended_source_ids":"src_x"}""" },
        { "recommended_source_ids", """{"patient_id":"{patient}","return_url":"{return}","recommended_source_ids":["not-an-id"]}""" },
        { "expires_in", """{"patient_id":"{patient}","return_url":"{return}","expires_in":59}""" },
        { "expires_in", """{"patient_id":"{patient}","return_url":"{return}","expires_in":86401}""" },
        { "expires_in", """{"patient_id":"{patient}","return_url":"{return}","expires_in":"1800"}""" },
        { "expires_in", """{"patient_id":"{patient}","return_url":"{return}","expires_in":60.5}""" },
        { "metadata", """{"patient_id":"{patient}","return_url":"{return}","metadata":"text"}""" },
        { "metadata", """{"patient_id":"{patient}","return_url":"{return}","metadata":[1,2]}""" },
        { "metadata", "{\"patient_id\":\"{patient}\",\"return_url\":\"{return}\",\"metadata\":{\"big\":\"" + new string('m', 4200) + "\"}}" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_field_is_400_naming_it_and_creates_nothing(string field, string template)
    {
        var patient = NewPatientId("val");
        var body = template.Replace("{patient}", patient, StringComparison.Ordinal).Replace("{return}", Valid, StringComparison.Ordinal);
        using var response = await ApiA.PostAsync("v1/patient-sessions", new StringContent(body, Encoding.UTF8, "application/json"), Cancel);
        var text = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{field}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!.AsObject();
        Assert.False(string.IsNullOrEmpty(problem.Str("type")), text);
        Assert.True(NamesField(problem, field), $"the problem does not name {field}: {text}");

        // Nothing half-written: the patient has no session.
        using var list = await ApiA.GetAsync($"v1/patients/{patient}/patient-sessions", Cancel);
        if (list.StatusCode == HttpStatusCode.OK)
        {
            var sessions = (await Json.ReadAsync(list, HttpStatusCode.OK))["data"]!.AsArray();
            Assert.Empty(sessions);
        }
        else
        {
            Assert.Equal(HttpStatusCode.NotFound, list.StatusCode);
        }
    }

    [Fact]
    public async Task Body_that_is_not_json_is_400()
    {
        using var response = await ApiA.PostAsync("v1/patient-sessions", new StringContent("{\"patient_id\": ", Encoding.UTF8, "application/json"), Cancel);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Valid_session_echoes_the_contract_fields()
    {
        var patient = NewPatientId("ok");
        var riverside = await Flow.SourceIdAsync("riverside");
        var session = await Flow.CreateSessionAsync(patient, expiresIn: 600, recommended: [riverside],
            metadata: new { plan = "gold", nested = new { n = 1 } }, returnUrl: "http://localhost:3000/done?x=1");

        var id = session.Str("id")!;
        Assert.StartsWith("ps_", id, StringComparison.Ordinal);
        Assert.True(id.Length >= 3 + 26, id); // at least 128 random bits in base32
        Assert.Equal(patient, session.Str("patient_id"));
        Assert.Equal("open", session.Str("status"));
        Assert.Equal(new Uri(Services.ApiBase, $"connect/{id}").ToString(), session.Str("url"));
        Assert.Equal("http://localhost:3000/done?x=1", session.Str("return_url"));
        Assert.Null(session.Str("source_id"));
        Assert.Null(session.Str("connection_id"));
        Assert.Null(session.Str("error"));
        Assert.Equal("gold", session["metadata"]!["plan"]!.GetValue<string>());
        Assert.Equal(1, session["metadata"]!["nested"]!["n"]!.GetValue<int>());
        var created = DateTimeOffset.Parse(session.Str("created_at")!);
        var expires = DateTimeOffset.Parse(session.Str("expires_at")!);
        Assert.InRange((expires - created).TotalSeconds, 599, 601);
        Assert.EndsWith("Z", session.Str("created_at"), StringComparison.Ordinal);

        var fetched = await Flow.GetSessionAsync(id);
        Assert.Equal(session.ToJsonString(), fetched.ToJsonString());
    }

    private static bool NamesField(JsonObject problem, string field)
    {
        if (problem.Str("field") == field) return true;
        return problem["errors"] is JsonObject errors && errors.ContainsKey(field);
    }
}

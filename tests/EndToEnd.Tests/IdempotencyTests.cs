using System.Net;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

public sealed class IdempotencyTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Fact]
    public async Task Same_key_and_body_returns_the_first_answer_and_creates_nothing_new()
    {
        var patient = NewPatientId("idem");
        var key = Guid.NewGuid().ToString();
        var body = new { patient_id = patient, return_url = Flow.ReturnUrl, metadata = new { attempt = 1 } };

        using var first = await Flow.PostSessionAsync(body, key);
        var firstBody = await Json.ReadAsync(first, HttpStatusCode.Created);
        using var second = await Flow.PostSessionAsync(body, key);
        var secondBody = await Json.ReadAsync(second, HttpStatusCode.Created);

        Assert.Equal(firstBody.Str("id"), secondBody.Str("id"));
        Assert.Equal(firstBody.ToJsonString(), secondBody.ToJsonString());
        var list = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions");
        Assert.Single(list["data"]!.AsArray());

        // Another tenant's identical key is its own.
        using var other = await Flow.PostSessionAsync(body, key, ApiB);
        var otherBody = await Json.ReadAsync(other, HttpStatusCode.Created);
        Assert.NotEqual(firstBody.Str("id"), otherBody.Str("id"));
    }

    [Fact]
    public async Task Concurrent_posts_with_one_key_create_one_session_and_the_others_wait_or_replay_it()
    {
        var patient = NewPatientId("idemrace");
        var key = Guid.NewGuid().ToString();
        var body = new { patient_id = patient, return_url = Flow.ReturnUrl };

        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            using var response = await Flow.PostSessionAsync(body, key);
            var text = await response.Content.ReadAsStringAsync(Cancel);
            return (Status: response.StatusCode, Text: text, response.Headers.RetryAfter,
                Type: response.Content.Headers.ContentType?.MediaType);
        }));

        var created = answers.Where(a => a.Status == HttpStatusCode.Created).Select(a => JsonNode.Parse(a.Text)!).ToList();
        Assert.NotEmpty(created);
        // Every 201 names the same session; every other answer says "still running, retry", with when.
        var id = Assert.Single(created.Select(c => c.Str("id")).Distinct());
        foreach (var waiting in answers.Where(a => a.Status != HttpStatusCode.Created))
        {
            Assert.True(waiting.Status == HttpStatusCode.Conflict, $"{(int)waiting.Status}: {waiting.Text}");
            Assert.Equal("application/problem+json", waiting.Type);
            Assert.Contains("idempotency_key_in_progress", waiting.Text, StringComparison.Ordinal);
            Assert.Equal(TimeSpan.FromSeconds(1), waiting.RetryAfter?.Delta);
        }

        // Afterwards the key replays the one session, and the patient has exactly that one.
        using var again = await Flow.PostSessionAsync(body, key);
        Assert.Equal(created[0].ToJsonString(), (await Json.ReadAsync(again, HttpStatusCode.Created)).ToJsonString());
        var list = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions");
        Assert.Equal(id, Assert.Single(list["data"]!.AsArray())!.Str("id"));
    }

    [Fact]
    public async Task Same_key_with_another_body_is_refused_and_creates_nothing()
    {
        var patient = NewPatientId("idem2");
        var key = Guid.NewGuid().ToString();
        using var first = await Flow.PostSessionAsync(new { patient_id = patient, return_url = Flow.ReturnUrl }, key);
        await Json.ReadAsync(first, HttpStatusCode.Created);

        using var changed = await Flow.PostSessionAsync(new { patient_id = patient, return_url = Flow.ReturnUrl, expires_in = 600 }, key);
        var text = await changed.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True((int)changed.StatusCode is 409 or 422, $"{(int)changed.StatusCode}: {text}");
        Assert.Equal("application/problem+json", changed.Content.Headers.ContentType?.MediaType);

        var list = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions");
        Assert.Single(list["data"]!.AsArray());
    }

    [Fact]
    public async Task A_refusal_is_remembered_and_replayed_for_the_same_key_and_body()
    {
        var patient = NewPatientId("idem3");
        var key = Guid.NewGuid().ToString();
        // Well-formed, but no such source in the directory: the domain refuses it (not the input checks).
        var body = new { patient_id = patient, return_url = Flow.ReturnUrl, source_id = "src_" + new string('z', 32) };

        using var first = await Flow.PostSessionAsync(body, key);
        var refused = await Json.ReadAsync(first, HttpStatusCode.BadRequest);
        Assert.Equal("source_id", refused.Str("field"));
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));

        using var again = await Flow.PostSessionAsync(body, key);
        var replayed = await Json.ReadAsync(again, HttpStatusCode.BadRequest);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        Assert.Equal("true", Assert.Single(again.Headers.GetValues("Idempotent-Replayed")));
        foreach (var field in new[] { "type", "code", "title", "detail", "field" }) Assert.Equal(refused.Str(field), replayed.Str(field));
        Assert.Equal(refused["errors"]!.ToJsonString(), replayed["errors"]!.ToJsonString());

        // The key's answer is the refusal: a corrected body under the same key is another request (422),
        // and under a new key it succeeds.
        var corrected = new { patient_id = patient, return_url = Flow.ReturnUrl };
        using var reused = await Flow.PostSessionAsync(corrected, key);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        // Nothing was created: the patient does not exist (it has no session).
        using (var none = await ApiA.GetAsync($"v1/patients/{patient}/patient-sessions", Cancel)) Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        using var fresh = await Flow.PostSessionAsync(corrected, Guid.NewGuid().ToString());
        await Json.ReadAsync(fresh, HttpStatusCode.Created);
        Assert.Single((await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions"))["data"]!.AsArray());
    }

    [Fact]
    public async Task Without_a_key_each_post_creates_a_session()
    {
        var patient = NewPatientId("noidem");
        var body = new { patient_id = patient, return_url = Flow.ReturnUrl };
        using var first = await Flow.PostSessionAsync(body);
        using var second = await Flow.PostSessionAsync(body);
        Assert.NotEqual((await Json.ReadAsync(first, HttpStatusCode.Created)).Str("id"),
            (await Json.ReadAsync(second, HttpStatusCode.Created)).Str("id"));
    }
}

using System.Net;
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

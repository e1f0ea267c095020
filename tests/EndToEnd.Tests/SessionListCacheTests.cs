using System.Net;
using PatientConnect.EndToEnd.Tests.Erasure;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>
/// The list is answered from the silo's page cache while nothing changed; over HTTP, with the pages warm,
/// every acknowledged write is in the very next list: a create's 201, a completed callback, an erasure.
/// </summary>
public sealed class SessionListCacheTests(ServiceProcesses services) : EndToEndTest(services)
{
    private async Task<List<(string? Id, string? Status)>> ListAsync(string patient, string query = "") =>
        [.. (await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions{query}"))["data"]!.AsArray()
            .Select(s => (s.Str("id"), s.Str("status")))];

    [Fact]
    public async Task Every_created_session_is_in_the_next_list_of_a_warm_cache()
    {
        var patient = NewPatientId("rywc");
        // A patient exists from its first session (before it, the list is 404).
        var created = new List<string?> { (await Flow.CreateSessionAsync(patient)).Str("id") };
        for (var i = 0; i < 25; i++)
        {
            // Warm: the pages read again after the last write, so the silo holds them.
            Assert.Equal(created, (await ListAsync(patient)).Select(s => s.Id));
            await ListAsync(patient, "?status=open&limit=5");

            created.Insert(0, (await Flow.CreateSessionAsync(patient)).Str("id"));

            Assert.Equal(created, (await ListAsync(patient)).Select(s => s.Id));
            Assert.Equal(created.Take(5), (await ListAsync(patient, "?status=open&limit=5")).Select(s => s.Id));
        }
        // The other tenant's same patient id: not a patient of theirs, whatever tenant A's pages hold.
        using var foreign = await ApiB.GetAsync($"v1/patients/{patient}/patient-sessions", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
    }

    [Fact]
    public async Task A_completed_connect_flow_is_in_the_next_list_of_a_warm_cache()
    {
        var patient = NewPatientId("rywf");
        var session = await Flow.CreateSessionAsync(patient, await Flow.SourceIdAsync("riverside"));
        var id = session.Str("id");
        Assert.Equal([(id, "open")], await ListAsync(patient));
        Assert.Empty(await ListAsync(patient, "?status=complete"));

        var callback = await Flow.ConsentAsync(await Flow.OpenDirectAsync(session.Str("url")!));
        Assert.Equal([(id, "open")], await ListAsync(patient));
        using var response = await Flow.CallbackAsync(callback);
        Assert.Equal("true", (await Flow.ReturnParametersAsync(response))["success"]);

        // The patient is back at the app; the app lists at once.
        Assert.Equal([(id, "complete")], await ListAsync(patient));
        Assert.Equal([(id, "complete")], await ListAsync(patient, "?status=complete"));
        Assert.Empty(await ListAsync(patient, "?status=open"));
        Assert.Equal((await Flow.GetSessionAsync(id!)).Str("connection_id"),
            (await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions"))["data"]![0].Str("connection_id"));
    }

    [Fact]
    public async Task An_erased_patients_list_is_404_at_once_although_its_pages_were_warm()
    {
        var patient = NewPatientId("rywe");
        await Flow.CreateSessionAsync(patient);
        await Flow.CreateSessionAsync(patient);
        Assert.Equal(2, (await ListAsync(patient)).Count);
        Assert.Equal(2, (await ListAsync(patient, "?limit=100")).Count);

        using var delete = await ApiA.DeleteAsync($"v1/patients/{patient}", Cancel);
        var job = await Json.ReadAsync(delete, HttpStatusCode.Accepted);
        await ErasureChecks.WaitForJobAsync(ApiA, job.Str("id")!, TimeSpan.FromSeconds(90));

        foreach (var query in new[] { "", "?limit=100", "?status=open" })
        {
            using var listed = await ApiA.GetAsync($"v1/patients/{patient}/patient-sessions{query}", Cancel);
            Assert.Equal(HttpStatusCode.NotFound, listed.StatusCode);
        }
    }
}

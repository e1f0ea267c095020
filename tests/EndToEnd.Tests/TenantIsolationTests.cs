using System.Net;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

/// <summary>Another tenant's object answers exactly like a missing one.</summary>
public sealed class TenantIsolationTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Fact]
    public async Task Another_tenants_key_gets_404_on_every_object()
    {
        var patient = NewPatientId("iso");
        var (session, _) = await Flow.ConnectAsync(patient, "riverside");
        var open = await Flow.CreateSessionAsync(patient);
        var connectionId = session.Str("connection_id")!;

        foreach (var path in new[]
                 {
                     $"v1/patient-sessions/{session.Str("id")}",
                     $"v1/patient-sessions/{open.Str("id")}",
                     $"v1/connections/{connectionId}",
                 })
        {
            using var foreign = await ApiB.GetAsync(path, Cancel);
            using var missing = await ApiB.GetAsync(MissingTwin(path), Cancel);
            await AssertSameNotFoundAsync(foreign, missing, path);
        }

        // Changing calls too, unless the route does not exist at all (405 for a missing id as well).
        var missingConnection = "conn_" + new string('a', 32);
        foreach (var (method, suffix) in new[] { (HttpMethod.Delete, ""), (HttpMethod.Post, "/sync") })
        {
            using var missing = await ApiB.SendAsync(new HttpRequestMessage(method, $"v1/connections/{missingConnection}{suffix}"), Cancel);
            if (missing.StatusCode == HttpStatusCode.MethodNotAllowed) continue;
            using var foreign = await ApiB.SendAsync(new HttpRequestMessage(method, $"v1/connections/{connectionId}{suffix}"), Cancel);
            Assert.True(foreign.StatusCode == HttpStatusCode.NotFound, $"{method} {connectionId}{suffix}: {(int)foreign.StatusCode}");
        }

        // The same patient_id under tenant B is another patient: nothing of tenant A shows.
        foreach (var path in new[] { $"v1/patients/{patient}/patient-sessions", $"v1/patients/{patient}/connections" })
        {
            using var list = await ApiB.GetAsync(path, Cancel);
            if (list.StatusCode == HttpStatusCode.OK)
            {
                Assert.Empty((await Json.ReadAsync(list, HttpStatusCode.OK))["data"]!.AsArray());
            }
            else
            {
                Assert.Equal(HttpStatusCode.NotFound, list.StatusCode);
            }
        }

        // Tenant A still sees all of it, unchanged.
        var connection = await Flow.GetConnectionAsync(connectionId);
        Assert.Equal("active", connection.Str("status"));
        Assert.Equal(2, (await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions"))["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task Same_patient_id_in_two_tenants_are_separate_patients()
    {
        var patient = NewPatientId("twin");
        var a = await Flow.CreateSessionAsync(patient);
        using var created = await Flow.PostSessionAsync(new { patient_id = patient, return_url = Flow.ReturnUrl }, client: ApiB);
        var b = await Json.ReadAsync(created, HttpStatusCode.Created);

        var listA = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions");
        var listB = await Json.GetAsync(ApiB, $"v1/patients/{patient}/patient-sessions");
        Assert.Equal([a.Str("id")], listA["data"]!.AsArray().Select(s => s.Str("id")).ToList());
        Assert.Equal([b.Str("id")], listB["data"]!.AsArray().Select(s => s.Str("id")).ToList());
    }

    private static string MissingTwin(string path)
    {
        var slash = path.LastIndexOf('/');
        var id = path[(slash + 1)..];
        var prefix = id[..(id.IndexOf('_') + 1)];
        return path[..(slash + 1)] + prefix + new string('a', id.Length - prefix.Length);
    }

    private static async Task AssertSameNotFoundAsync(HttpResponseMessage foreign, HttpResponseMessage missing, string path)
    {
        Assert.True(foreign.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)foreign.StatusCode}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var foreignProblem = JsonNode.Parse(await foreign.Content.ReadAsStringAsync(Cancel))!;
        var missingProblem = JsonNode.Parse(await missing.Content.ReadAsStringAsync(Cancel))!;
        Assert.Equal(missingProblem.Str("type"), foreignProblem.Str("type"));
        Assert.Equal(missingProblem.Str("code"), foreignProblem.Str("code"));
    }
}

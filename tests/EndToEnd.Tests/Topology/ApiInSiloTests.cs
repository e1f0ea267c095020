using System.Net;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Topology;

/// <summary>The service with the Api hosted inside the silo (PatientConnect:Api:InSilo) and no Api process.</summary>
public sealed class ApiInSiloServices() : ServiceProcesses(silos: 1)
{
    protected override bool ApiInSilo => true;
}

/// <summary>
/// The in-silo topology is the one the benchmark measures fastest for reads (README "Performance"): the
/// same contract must hold there — keys, the whole connect flow through the sandbox, reads, the list, 404s.
/// </summary>
public sealed class ApiInSiloTests(ApiInSiloServices services) : EndToEndTest(services), IClassFixture<ApiInSiloServices>
{
    [Fact]
    public async Task The_api_inside_the_silo_serves_the_whole_flow_and_the_reads_of_the_contract()
    {
        Assert.Throws<InvalidOperationException>(() => Services.Api);

        using var noKey = await Anonymous.GetAsync("v1/sources", Cancel);
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);

        var patient = NewPatientId("insilo");
        var sourceId = await Flow.SourceIdAsync("riverside");
        var session = await Flow.CreateSessionAsync(patient, sourceId);
        var sessionId = session.Str("id")!;
        Assert.Equal("open", session.Str("status"));

        var authorize = await Flow.OpenDirectAsync(session.Str("url")!);
        var callback = await Flow.ConsentAsync(authorize, "approve");
        Assert.Equal(new Uri(Services.ApiBase, "oauth/callback").GetLeftPart(UriPartial.Path), callback.GetLeftPart(UriPartial.Path));
        using var back = await Flow.CallbackAsync(callback);
        var result = await Flow.ReturnParametersAsync(back);
        Assert.Equal("true", result["success"]);
        var connectionId = result["connection_id"]!;

        var completed = await Flow.GetSessionAsync(sessionId);
        Assert.Equal("complete", completed.Str("status"));
        Assert.Equal(connectionId, completed.Str("connection_id"));
        var connection = await Flow.GetConnectionAsync(connectionId);
        Assert.Equal("active", connection.Str("status"));
        Assert.Equal(patient, connection.Str("patient_id"));

        var list = await Json.GetAsync(ApiA, $"v1/patients/{patient}/patient-sessions?limit=50");
        Assert.Equal([sessionId], list["data"]!.AsArray().Select(s => s.Str("id")).ToList());

        // Tenant isolation and 404s hold here too.
        using var foreign = await ApiB.GetAsync($"v1/patient-sessions/{sessionId}", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        using var unknownPatient = await ApiA.GetAsync($"v1/patients/{NewPatientId("nobody")}/patient-sessions", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, unknownPatient.StatusCode);
    }
}

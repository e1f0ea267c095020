using Microsoft.AspNetCore.WebUtilities;
using PatientConnect.Patients;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Tests;

/// <summary>Shortcuts the tests share: a new patient, a session, the portal's side of the flow.</summary>
public static class TestData
{
    public static string NewPatientId() => "p-" + Guid.NewGuid().ToString("N")[..12];

    public static CreateSession Request(
        string tenant, string patient, string? sourceId = null, IReadOnlyList<string>? recommended = null,
        TimeSpan? expiresIn = null, string returnUrl = "https://app.test/back?x=1") =>
        new(tenant, patient, returnUrl, sourceId, recommended ?? [], expiresIn ?? TimeSpan.FromHours(1), """{"plan":"gold"}""");

    public static async Task<SessionView> CreateSessionAsync(
        this ClusterFixture f, string tenant, string patient, string? sourceId = null, TimeSpan? expiresIn = null)
    {
        var result = await f.Grains.GetGrain<IPatientGrain>(Ids.PatientKey(tenant, patient))
            .CreateSession(Request(tenant, patient, sourceId, expiresIn: expiresIn));
        Assert.Null(result.InvalidField);
        return result.Session!;
    }

    public static IReadOnlyDictionary<string, string> QueryOf(string url) =>
        QueryHelpers.ParseQuery(new Uri(url).Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    /// <summary>Begins the connect flow, "approves" at the fake portal and returns the callback it would make.</summary>
    public static async Task<OAuthCallback> ApproveAsync(this ClusterFixture f, string sessionId, string sourceId, string fhirPatient = "fhir-pat-1")
    {
        var step = await f.Grains.GetGrain<IPatientSessionGrain>(sessionId).BeginConnect(sourceId);
        Assert.Null(step.ErrorCode);
        var query = QueryOf(step.AuthorizeUrl!);
        var code = "code-" + Guid.NewGuid().ToString("N");
        f.Ehr.IssueCode(code, query["code_challenge"], fhirPatient);
        return new OAuthCallback(query["state"], code, null, null);
    }
}

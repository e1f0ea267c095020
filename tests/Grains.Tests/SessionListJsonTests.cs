using System.Text;
using System.Text.Json;
using PatientConnect.Api.Hosting;
using PatientConnect.Contract;
using PatientConnect.Patients;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Tests;

/// <summary>
/// The list's JSON written in the silo from each row's stored tail must be, byte for byte, what the Api
/// wrote before from the views (<c>ListJson&lt;SessionJson&gt;</c> through the contract's options), at
/// every status, with a status only the clock decides, across pages, and right after each write.
/// </summary>
public sealed class SessionListJsonTests(ClusterFixture f)
{
    private const string A = ClusterFixture.TenantA;
    private const string B = ClusterFixture.TenantB;

    private IPatientSessionListGrain Lists => f.Grains.GetGrain<IPatientSessionListGrain>(0);

    private async Task AssertSameAsViewsAsync(string tenant, string patient, SessionListQuery query)
    {
        var views = await Lists.List(tenant, patient, query);
        var expected = JsonSerializer.Serialize(
            new ListJson<SessionJson>(views.Data.Select(SessionJson.From).ToList(), views.NextCursor), ContractJson.Options);
        var page = await f.UncachedListJsonAsync(tenant, patient, query);
        Assert.Equal(expected, Encoding.UTF8.GetString(page.Utf8));
        Assert.Equal(views.Data.Count, page.Count);
    }

    [Fact]
    public async Task List_json_is_the_views_as_the_contract_writes_them_at_every_status_and_page()
    {
        var patient = TestData.NewPatientId();
        var riverside = f.SourceId("riverside");
        // Text that JSON escapes (quotes, non-ASCII, <, &) in metadata, return url and hints.
        var unusual = TestData.Request(A, patient, recommended: [riverside], returnUrl: "https://app.test/back?a=1&b=<x>") with
        {
            MetadataJson = """{"note":"caf\u00e9 \"q\" <b>","n":[1,2.5,null],"ü":"é"}""",
            Hints = new PatientHints("53703", "WI", "es"),
        };
        var withHints = (await f.Grains.GetGrain<IPatientGrain>(Ids.PatientKey(A, patient)).CreateSession(unusual)).Session!;
        f.Clock.Advance(TimeSpan.FromSeconds(1));
        var completed = await f.CreateSessionAsync(A, patient, riverside);
        f.Clock.Advance(TimeSpan.FromSeconds(1));
        var shortLived = await f.CreateSessionAsync(A, patient, expiresIn: TimeSpan.FromSeconds(60));
        f.Clock.Advance(TimeSpan.FromSeconds(1));
        await f.CreateSessionAsync(A, patient);

        await AssertSameAsViewsAsync(A, patient, new SessionListQuery(null, 50, null));
        // Read-your-writes: the completion's write is the list's at once.
        await f.Grains.GetGrain<IPatientSessionGrain>(completed.Id).CompleteCallback(await f.ApproveAsync(completed.Id, riverside));
        var afterCompletion = JsonDocument.Parse((await f.UncachedListJsonAsync(A, patient, new SessionListQuery(SessionStatus.Complete, 50, null))).Utf8);
        var listedCompleted = afterCompletion.RootElement.GetProperty("data").EnumerateArray().Single();
        Assert.Equal(completed.Id, listedCompleted.GetProperty("id").GetString());
        Assert.Equal("complete", listedCompleted.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.String, listedCompleted.GetProperty("connection_id").ValueKind);

        // Past expires_at the short-lived one shows expired from the clock, before any stored expiry.
        f.Clock.Advance(TimeSpan.FromSeconds(61));
        foreach (SessionStatus? status in new SessionStatus?[] { null, SessionStatus.Open, SessionStatus.Complete, SessionStatus.Expired })
        {
            await AssertSameAsViewsAsync(A, patient, new SessionListQuery(status, 50, null));
        }
        var expired = JsonDocument.Parse((await f.UncachedListJsonAsync(A, patient, new SessionListQuery(SessionStatus.Expired, 50, null))).Utf8);
        Assert.Equal(shortLived.Id, expired.RootElement.GetProperty("data").EnumerateArray().Single().GetProperty("id").GetString());
        Assert.Equal("expired", expired.RootElement.GetProperty("data")[0].GetProperty("status").GetString());

        // Pages of two: the same bytes as the views' pages, cursors included.
        string? cursor = null;
        var pages = 0;
        do
        {
            var query = new SessionListQuery(null, 2, cursor);
            await AssertSameAsViewsAsync(A, patient, query);
            cursor = (await Lists.List(A, patient, query)).NextCursor;
            pages++;
        } while (cursor is not null);
        Assert.Equal(2, pages);
        var all = JsonDocument.Parse((await f.UncachedListJsonAsync(A, patient, new SessionListQuery(null, 50, null))).Utf8);
        Assert.Equal(withHints.Id, all.RootElement.GetProperty("data")[3].GetProperty("id").GetString());
        Assert.Equal("""{"note":"caf\u00e9 \"q\" <b>","n":[1,2.5,null],"ü":"é"}""", all.RootElement.GetProperty("data")[3].GetProperty("metadata").GetRawText());
    }

    [Fact]
    public async Task List_json_of_a_patient_without_sessions_or_of_another_tenant_is_an_empty_page()
    {
        var patient = TestData.NewPatientId();
        await f.CreateSessionAsync(A, patient);

        var foreign = await f.UncachedListJsonAsync(B, patient, new SessionListQuery(null, 50, null));
        Assert.Equal(0, foreign.Count);
        Assert.Equal("""{"data":[],"next_cursor":null}""", Encoding.UTF8.GetString(foreign.Utf8));
        await AssertSameAsViewsAsync(B, patient, new SessionListQuery(null, 50, null));
        Assert.Equal(1, (await f.UncachedListJsonAsync(A, patient, new SessionListQuery(null, 50, null))).Count);
    }
}

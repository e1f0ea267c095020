using System.Net;
using System.Text;
using System.Text.Json;

namespace SandboxEhr.Tests;

/// <summary>
/// The refusal knobs of PUT /hospitals/{id}/settings (fail_searches, next_link_base) observably change the
/// FHIR API, and only where they say (own sandbox process).
/// </summary>
public sealed class FhirFailureKnobTests(SmallSandbox sandbox) : IClassFixture<SmallSandbox>, IAsyncLifetime
{
    private const string Hospital = "lakeside";
    private TokenResponse _token = null!;

    public async ValueTask InitializeAsync()
    {
        await sandbox.ResetSettingsAsync(Hospital);
        // A patient with every type the tests refuse, and more than one small page of Observations.
        var listing = await sandbox.PatientListing(Hospital);
        var patient = listing.EnumerateArray().First(p =>
        {
            var counts = p.GetProperty("resource_counts");
            return Count(counts, "Procedure") > 0 && Count(counts, "Encounter") > 0 && Count(counts, "Observation") > 10;
        }).GetProperty("id").GetString()!;
        _token = await sandbox.ConnectAsync(Hospital, patientId: patient);
    }

    public async ValueTask DisposeAsync() => await sandbox.ResetSettingsAsync(Hospital);

    private static int Count(JsonElement counts, string type) => counts.TryGetProperty(type, out var n) ? n.GetInt32() : 0;

    private string Base => sandbox.FhirBase(Hospital);

    private string Search(string type) => $"{Base}/{type}?patient={_token.Patient}";

    private async Task<string> FirstId(string type)
    {
        var bundle = await sandbox.FhirOk(Search(type) + "&_count=1", _token.AccessToken);
        return bundle.GetProperty("entry")[0].GetProperty("resource").GetProperty("id").GetString()!;
    }

    private static void AssertForcedOutcome(FhirAnswer answer, HttpStatusCode status)
    {
        Assert.True(answer.Status == status, $"expected {(int)status}, got {(int)answer.Status}: {answer.Body}");
        Assert.Equal("application/fhir+json", answer.ContentType);
        Assert.Equal("OperationOutcome", answer.Json.GetProperty("resourceType").GetString());
        var diagnostics = answer.Json.GetProperty("issue")[0].GetProperty("diagnostics").GetString();
        Assert.Contains("Sandbox-forced failure", diagnostics);
    }

    [Fact]
    public async Task Fail_searches_refuses_searches_and_reads_of_the_named_types_only()
    {
        var procedureId = await FirstId("Procedure");
        var encounterId = await FirstId("Encounter");

        var settings = await sandbox.SetSettingsAsync(Hospital, new { fail_searches = new Dictionary<string, int> { ["Procedure"] = 403, ["Encounter"] = 400 } });
        Assert.Equal(403, settings.GetProperty("fail_searches").GetProperty("Procedure").GetInt32());
        Assert.Equal(400, settings.GetProperty("fail_searches").GetProperty("Encounter").GetInt32());

        AssertForcedOutcome(await sandbox.Fhir(Search("Procedure"), _token.AccessToken), HttpStatusCode.Forbidden);
        AssertForcedOutcome(await sandbox.Fhir($"{Base}/Procedure/{procedureId}", _token.AccessToken), HttpStatusCode.Forbidden);
        AssertForcedOutcome(await sandbox.Fhir(Search("Encounter"), _token.AccessToken), HttpStatusCode.BadRequest);
        AssertForcedOutcome(await sandbox.Fhir($"{Base}/Encounter/{encounterId}", _token.AccessToken), HttpStatusCode.BadRequest);

        // Every other type, and the CapabilityStatement, as before.
        await sandbox.FhirOk(Search("Observation"), _token.AccessToken);
        await sandbox.FhirOk($"{Base}/Patient/{_token.Patient}", _token.AccessToken);
        await sandbox.FhirOk($"{Base}/metadata", _token.AccessToken);

        // Without a valid token the token check still comes first.
        Assert.Equal(HttpStatusCode.Unauthorized, (await sandbox.Fhir(Search("Procedure"), "not-a-token")).Status);

        // {} clears it.
        var cleared = await sandbox.SetSettingsAsync(Hospital, new { fail_searches = new Dictionary<string, int>() });
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("fail_searches").ValueKind);
        await sandbox.FhirOk(Search("Procedure"), _token.AccessToken);
        await sandbox.FhirOk($"{Base}/Encounter/{encounterId}", _token.AccessToken);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(500)]
    public async Task Fail_searches_star_answers_the_status_for_every_type_but_not_metadata(int status)
    {
        await sandbox.SetSettingsAsync(Hospital, new { fail_searches = new Dictionary<string, int> { ["*"] = status } });

        foreach (var url in new[] { Search("Observation"), Search("Condition"), $"{Base}/Patient/{_token.Patient}" })
        {
            var answer = await sandbox.Fhir(url, _token.AccessToken);
            AssertForcedOutcome(answer, (HttpStatusCode)status);
            if (status == 401)
                Assert.Contains("invalid_token", answer.Response.Headers.WwwAuthenticate.ToString());
        }
        var metadata = await sandbox.FhirOk($"{Base}/metadata", _token.AccessToken);
        Assert.Equal("CapabilityStatement", metadata.GetProperty("resourceType").GetString());
        // The token itself is untouched: the refusal is the knob's, not the authorization server's.
        Assert.True(await sandbox.IsActiveAsync(Hospital, _token.AccessToken));

        await sandbox.SetSettingsAsync(Hospital, new { fail_searches = (object?)null });
        await sandbox.FhirOk(Search("Observation"), _token.AccessToken);
    }

    [Fact]
    public async Task Fail_searches_type_entry_wins_over_star_and_delete_resets_it()
    {
        await sandbox.SetSettingsAsync(Hospital, new { fail_searches = new Dictionary<string, int> { ["*"] = 500, ["Procedure"] = 404 } });
        AssertForcedOutcome(await sandbox.Fhir(Search("Procedure"), _token.AccessToken), HttpStatusCode.NotFound);
        AssertForcedOutcome(await sandbox.Fhir(Search("Observation"), _token.AccessToken), HttpStatusCode.InternalServerError);

        await sandbox.ResetSettingsAsync(Hospital);
        var settings = await sandbox.GetJson($"/hospitals/{Hospital}/settings");
        Assert.Equal(JsonValueKind.Null, settings.GetProperty("fail_searches").ValueKind);
        await sandbox.FhirOk(Search("Procedure"), _token.AccessToken);
        await sandbox.FhirOk(Search("Observation"), _token.AccessToken);
    }

    [Fact]
    public async Task Next_link_base_moves_only_the_next_link_keeping_path_and_query()
    {
        const string elsewhere = "http://127.0.0.2:9/hospitals/x/fhir";
        var settings = await sandbox.SetSettingsAsync(Hospital, new { page_size = 5, next_link_base = elsewhere + "/" });
        Assert.Equal(elsewhere, settings.GetProperty("next_link_base").GetString());

        var first = await sandbox.FhirOk(Search("Observation"), _token.AccessToken);
        var next = Link(first, "next");
        Assert.StartsWith($"{elsewhere}/Observation?_page_token=", next);
        Assert.StartsWith($"{Base}/Observation?", Link(first, "self"));
        Assert.All(first.GetProperty("entry").EnumerateArray(), e => Assert.StartsWith($"{Base}/", e.GetProperty("fullUrl").GetString()));

        // The same path and query under the real base is the real second page.
        var second = await sandbox.FhirOk(Base + next[elsewhere.Length..], _token.AccessToken);
        var firstIds = first.GetProperty("entry").EnumerateArray().Select(FhirTestSupport.ResourceKey).ToList();
        var secondIds = second.GetProperty("entry").EnumerateArray().Select(FhirTestSupport.ResourceKey).ToList();
        Assert.Equal(5, secondIds.Count);
        Assert.Empty(firstIds.Intersect(secondIds));

        var back = await sandbox.SetSettingsAsync(Hospital, new { next_link_base = (string?)null });
        Assert.Equal(JsonValueKind.Null, back.GetProperty("next_link_base").ValueKind);
        var own = await sandbox.FhirOk(Search("Observation"), _token.AccessToken);
        Assert.StartsWith($"{Base}/Observation?_page_token=", Link(own, "next"));
        var walk = await sandbox.SearchAll(Search("Observation"), _token.AccessToken);
        Assert.Equal(walk.Total, walk.Matches.Count);
    }

    private static string Link(JsonElement bundle, string relation) =>
        bundle.GetProperty("link").EnumerateArray()
            .Single(l => l.GetProperty("relation").GetString() == relation)
            .GetProperty("url").GetString()!;

    [Theory]
    [InlineData("fail_searches", """{"fail_searches": {"Procedures": 403}}""")]
    [InlineData("fail_searches", """{"fail_searches": {"procedure": 403}}""")]
    [InlineData("fail_searches", """{"fail_searches": {"Procedure": 402}}""")]
    [InlineData("fail_searches", """{"fail_searches": {"Procedure": 429}}""")]
    [InlineData("fail_searches", """{"fail_searches": {"Procedure": "403"}}""")]
    [InlineData("fail_searches", """{"fail_searches": {"*": 403.5}}""")]
    [InlineData("fail_searches", """{"fail_searches": [403]}""")]
    [InlineData("fail_searches", """{"fail_searches": "*"}""")]
    [InlineData("next_link_base", """{"next_link_base": "ftp://127.0.0.1/fhir"}""")]
    [InlineData("next_link_base", """{"next_link_base": "/hospitals/x/fhir"}""")]
    [InlineData("next_link_base", """{"next_link_base": "http://127.0.0.1/fhir?x=1"}""")]
    [InlineData("next_link_base", """{"next_link_base": 5}""")]
    [InlineData("next_link_base", """{"page_size": 5, "next_link_base": ""}""")]
    public async Task Bad_failure_knob_values_are_400_naming_the_field_and_change_nothing(string field, string body)
    {
        var before = (await sandbox.GetJson($"/hospitals/{Hospital}/settings")).GetRawText();
        using var response = await sandbox.HttpClient.PutAsync($"/hospitals/{Hospital}/settings",
            new StringContent(body, Encoding.UTF8, "application/json"), FhirTestSupport.Ct);
        var text = await response.Content.ReadAsStringAsync(FhirTestSupport.Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(text).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), text);
        Assert.Equal(before, (await sandbox.GetJson($"/hospitals/{Hospital}/settings")).GetRawText());
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Text.Json;

namespace SandboxEhr.Tests;

/// <summary>The FHIR API over HTTP against the shared sandbox (default data; no settings changed here).</summary>
public sealed class FhirApiTests(SandboxProcess sandbox)
{
    private static readonly string[] EpicObservationCategories = ["laboratory", "vital-signs", "social-history", "survey"];

    [Fact]
    public async Task Paging_returns_every_resource_once_and_totals_match_resource_counts_epic()
    {
        var patients = await sandbox.PatientIds("riverside");
        var patientId = patients[2];
        var token = await sandbox.ConnectAsync("riverside", patientId: patientId);
        var counts = await sandbox.ResourceCounts("riverside", patientId);
        var fhir = sandbox.FhirBase("riverside");

        foreach (var (type, expected) in counts)
        {
            var urls = type == "Observation"
                ? EpicObservationCategories.Select(c => $"{fhir}/Observation?patient={patientId}&category={c}&_count=20").ToArray()
                : [$"{fhir}/{type}?patient={patientId}&_count=20"];
            if (type == "Patient")
                urls = [$"{fhir}/Patient?_id={patientId}"];
            var seen = new List<string>();
            foreach (var url in urls)
            {
                var walk = await sandbox.SearchAll(url, token.AccessToken);
                Assert.Equal(walk.Total, walk.Matches.Count);
                Assert.All(walk.Matches, e => Assert.Equal(
                    $"{fhir}/{FhirTestSupport.ResourceKey(e)}", e.GetProperty("fullUrl").GetString()));
                seen.AddRange(walk.Matches.Select(FhirTestSupport.ResourceKey));
            }
            Assert.Equal(expected, seen.Count);
            Assert.Equal(seen.Count, seen.Distinct().Count());
            Assert.All(seen, key => Assert.StartsWith(type + "/", key));
        }
    }

    [Fact]
    public async Task Paging_the_large_patient_at_cerner_returns_every_resource_once()
    {
        var patientId = await sandbox.LargestPatient("lakeside");
        var token = await sandbox.ConnectAsync("lakeside", patientId: patientId);
        var counts = await sandbox.ResourceCounts("lakeside", patientId);
        Assert.True(counts.Values.Sum() >= 3000, $"largest lakeside patient has {counts.Values.Sum()} resources");

        var walk = await sandbox.SearchAll($"{sandbox.FhirBase("lakeside")}/Observation?patient={patientId}&_count=200", token.AccessToken);
        Assert.Equal(counts["Observation"], walk.Total);
        Assert.Equal(counts["Observation"], walk.Matches.Select(FhirTestSupport.ResourceKey).Distinct().Count());
        Assert.Equal(counts["Observation"], walk.Matches.Count);
        Assert.Equal((counts["Observation"] + 199) / 200, walk.Pages);
    }

    [Fact]
    public async Task Epic_page_size_is_capped_at_50()
    {
        var patientId = await sandbox.LargestPatient("riverside");
        var token = await sandbox.ConnectAsync("riverside", patientId: patientId);
        var bundle = await sandbox.FhirOk(
            $"{sandbox.FhirBase("riverside")}/Observation?patient={patientId}&category=vital-signs&_count=500", token.AccessToken);
        Assert.Equal(50, bundle.GetProperty("entry").GetArrayLength());
        Assert.True(bundle.GetProperty("total").GetInt32() > 1000);
    }

    [Fact]
    public async Task Epic_observation_search_without_category_is_a_400_outcome()
    {
        var token = await sandbox.ConnectAsync("riverside");
        var answer = await sandbox.Fhir($"{sandbox.FhirBase("riverside")}/Observation?patient={token.Patient}", token.AccessToken);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("OperationOutcome", answer.Json.GetProperty("resourceType").GetString());
        Assert.Contains("category", answer.Body);

        // Cerner-like servers do not insist.
        var cerner = await sandbox.ConnectAsync("lakeside");
        var bundle = await sandbox.FhirOk($"{sandbox.FhirBase("lakeside")}/Observation?patient={cerner.Patient}", cerner.AccessToken);
        Assert.True(bundle.GetProperty("total").GetInt32() > 0);
    }

    [Fact]
    public async Task Unknown_search_parameter_is_refused_by_epic_and_ignored_with_an_outcome_by_cerner()
    {
        var epic = await sandbox.ConnectAsync("riverside");
        var refused = await sandbox.Fhir($"{sandbox.FhirBase("riverside")}/Condition?patient={epic.Patient}&flavour=mint", epic.AccessToken);
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("OperationOutcome", refused.Json.GetProperty("resourceType").GetString());
        Assert.Contains("flavour", refused.Body);

        var cerner = await sandbox.ConnectAsync("lakeside");
        var url = $"{sandbox.FhirBase("lakeside")}/Condition?patient={cerner.Patient}";
        var plain = await sandbox.FhirOk(url, cerner.AccessToken);
        var lenient = await sandbox.FhirOk(url + "&flavour=mint", cerner.AccessToken);
        Assert.Equal(plain.GetProperty("total").GetInt32(), lenient.GetProperty("total").GetInt32());
        var outcome = lenient.GetProperty("entry").EnumerateArray()
            .Single(e => e.GetProperty("search").GetProperty("mode").GetString() == "outcome");
        Assert.Equal("OperationOutcome", outcome.GetProperty("resource").GetProperty("resourceType").GetString());
        Assert.Contains("flavour", outcome.GetRawText());

        using var strict = new HttpRequestMessage(HttpMethod.Get, url + "&flavour=mint");
        strict.Headers.Authorization = new("Bearer", cerner.AccessToken);
        strict.Headers.Add("Prefer", "handling=strict");
        using var strictAnswer = await sandbox.HttpClient.SendAsync(strict, FhirTestSupport.Ct);
        Assert.Equal(HttpStatusCode.BadRequest, strictAnswer.StatusCode);
    }

    [Fact]
    public async Task A_type_outside_the_granted_scopes_is_403()
    {
        var token = await sandbox.ConnectAsync("riverside", scope: "launch/patient patient/Observation.read");
        var fhir = sandbox.FhirBase("riverside");
        var allowed = await sandbox.Fhir($"{fhir}/Observation?patient={token.Patient}&category=laboratory", token.AccessToken);
        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        var forbidden = await sandbox.Fhir($"{fhir}/Condition?patient={token.Patient}", token.AccessToken);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.Status);
        Assert.Equal("OperationOutcome", forbidden.Json.GetProperty("resourceType").GetString());
        var patientRead = await sandbox.Fhir($"{fhir}/Patient/{token.Patient}", token.AccessToken);
        Assert.Equal(HttpStatusCode.Forbidden, patientRead.Status);

        // v2 at the Cerner-like hospital: Observation.rs allows search, Condition stays closed.
        var cerner = await sandbox.ConnectAsync("lakeside", scope: "launch/patient patient/Observation.rs");
        Assert.Equal(HttpStatusCode.OK,
            (await sandbox.Fhir($"{sandbox.FhirBase("lakeside")}/Observation?patient={cerner.Patient}", cerner.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await sandbox.Fhir($"{sandbox.FhirBase("lakeside")}/Condition?patient={cerner.Patient}", cerner.AccessToken)).Status);
    }

    [Fact]
    public async Task Another_patients_search_or_resource_is_403()
    {
        var patients = await sandbox.PatientIds("riverside");
        var token = await sandbox.ConnectAsync("riverside", patientId: patients[0]);
        var fhir = sandbox.FhirBase("riverside");
        var other = patients[3];

        var search = await sandbox.Fhir($"{fhir}/Condition?patient={other}", token.AccessToken);
        Assert.Equal(HttpStatusCode.Forbidden, search.Status);
        var subject = await sandbox.Fhir($"{fhir}/Condition?subject=Patient/{other}", token.AccessToken);
        Assert.Equal(HttpStatusCode.Forbidden, subject.Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await sandbox.Fhir($"{fhir}/Patient/{other}", token.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await sandbox.Fhir($"{fhir}/Patient?_id={other}", token.AccessToken)).Status);

        // A resource of the other patient, found with the other patient's own token, is 403 for ours.
        var otherToken = await sandbox.ConnectAsync("riverside", patientId: other);
        var encounters = await sandbox.FhirOk($"{fhir}/Encounter?patient={other}&_count=1", otherToken.AccessToken);
        var encounterId = encounters.GetProperty("entry")[0].GetProperty("resource").GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Fhir($"{fhir}/Encounter/{encounterId}", otherToken.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await sandbox.Fhir($"{fhir}/Encounter/{encounterId}", token.AccessToken)).Status);
    }

    [Fact]
    public async Task Missing_invalid_and_revoked_tokens_are_401_with_www_authenticate()
    {
        var fhir = sandbox.FhirBase("riverside");
        var none = await sandbox.Fhir($"{fhir}/Patient?_id=x", token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, none.Status);
        Assert.StartsWith("Bearer", none.Response.Headers.WwwAuthenticate.ToString());

        var bogus = await sandbox.Fhir($"{fhir}/Patient?_id=x", "not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, bogus.Status);
        Assert.Contains("invalid_token", bogus.Response.Headers.WwwAuthenticate.ToString());

        var token = await sandbox.ConnectAsync("riverside");
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Fhir($"{fhir}/Patient/{token.Patient}", token.AccessToken)).Status);
        // A token of another hospital is not valid here.
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await sandbox.Fhir($"{sandbox.FhirBase("lakeside")}/Patient/{token.Patient}", token.AccessToken)).Status);
        using var revoked = await sandbox.RevokeAsync("riverside", token.AccessToken);
        Assert.True(revoked.IsSuccessStatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await sandbox.Fhir($"{fhir}/Patient/{token.Patient}", token.AccessToken)).Status);
    }

    [Fact]
    public async Task LastUpdated_ge_returns_exactly_the_resources_updated_since()
    {
        var patientId = (await sandbox.PatientIds("lakeside"))[3];
        var token = await sandbox.ConnectAsync("lakeside", patientId: patientId);
        var fhir = sandbox.FhirBase("lakeside");
        var all = await sandbox.SearchAll($"{fhir}/Observation?patient={patientId}&_count=200", token.AccessToken);
        var stamps = all.Matches
            .Select(e => (Key: FhirTestSupport.ResourceKey(e),
                At: DateTimeOffset.Parse(e.GetProperty("resource").GetProperty("meta").GetProperty("lastUpdated").GetString()!)))
            .ToList();
        var cut = stamps.OrderBy(s => s.At).ElementAt(stamps.Count / 2).At;
        var expected = stamps.Where(s => s.At >= cut).Select(s => s.Key).Order().ToList();

        var since = Uri.EscapeDataString(cut.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"));
        var incremental = await sandbox.SearchAll($"{fhir}/Observation?patient={patientId}&_lastUpdated=ge{since}&_count=50", token.AccessToken);
        Assert.Equal(expected, incremental.Matches.Select(FhirTestSupport.ResourceKey).Order().ToList());
        Assert.True(expected.Count < stamps.Count);

        var nothing = await sandbox.FhirOk($"{fhir}/Observation?patient={patientId}&_lastUpdated=gt2030-01-01", token.AccessToken);
        Assert.Equal(0, nothing.GetProperty("total").GetInt32());
        var bad = await sandbox.Fhir($"{fhir}/Observation?patient={patientId}&_lastUpdated=yesterday", token.AccessToken);
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
    }

    [Fact]
    public async Task Include_medication_adds_the_referenced_medications_once()
    {
        var patientId = await sandbox.LargestPatient("riverside");
        var token = await sandbox.ConnectAsync("riverside", patientId: patientId);
        var fhir = sandbox.FhirBase("riverside");
        var bundle = await sandbox.FhirOk($"{fhir}/MedicationRequest?patient={patientId}&_include=MedicationRequest:medication&_count=50", token.AccessToken);
        var entries = bundle.GetProperty("entry").EnumerateArray().ToList();
        var matches = entries.Where(e => e.GetProperty("search").GetProperty("mode").GetString() == "match").ToList();
        var included = entries.Where(e => e.GetProperty("search").GetProperty("mode").GetString() == "include")
            .Select(FhirTestSupport.ResourceKey).ToList();
        var referenced = matches
            .Select(e => e.GetProperty("resource").GetProperty("medicationReference").GetProperty("reference").GetString()!)
            .Distinct().Order().ToList();
        Assert.Equal(50, matches.Count);
        Assert.Equal(referenced, included.Order().ToList());

        var medication = await sandbox.FhirOk($"{fhir}/{referenced[0]}", token.AccessToken);
        Assert.Equal("http://www.nlm.nih.gov/research/umls/rxnorm",
            medication.GetProperty("code").GetProperty("coding")[0].GetProperty("system").GetString());
    }

    [Fact]
    public async Task Binary_serves_the_attachment_bytes_or_a_binary_resource()
    {
        var patientId = await sandbox.LargestPatient("riverside");
        var token = await sandbox.ConnectAsync("riverside", patientId: patientId);
        var fhir = sandbox.FhirBase("riverside");
        var documents = await sandbox.SearchAll($"{fhir}/DocumentReference?patient={patientId}&category=clinical-note", token.AccessToken);
        Assert.NotEmpty(documents.Matches);
        var contentTypes = new HashSet<string>();
        foreach (var entry in documents.Matches.Take(12))
        {
            var attachment = entry.GetProperty("resource").GetProperty("content")[0].GetProperty("attachment");
            var url = attachment.GetProperty("url").GetString()!;
            Assert.StartsWith("Binary/", url);

            var raw = await sandbox.Fhir($"{fhir}/{url}", token.AccessToken, accept: null);
            Assert.Equal(HttpStatusCode.OK, raw.Status);
            var bytes = await raw.Response.Content.ReadAsByteArrayAsync(FhirTestSupport.Ct);
            Assert.Equal(attachment.GetProperty("size").GetInt32(), bytes.Length);
            Assert.Equal(attachment.GetProperty("hash").GetString(), Convert.ToBase64String(SHA1.HashData(bytes)));
            var mediaType = raw.Response.Content.Headers.ContentType!.MediaType!;
            Assert.Equal(attachment.GetProperty("contentType").GetString()!.Split(';')[0], mediaType);
            contentTypes.Add(mediaType);
            if (mediaType == "application/pdf")
                Assert.StartsWith("%PDF-", System.Text.Encoding.ASCII.GetString(bytes, 0, 5));
            else
                Assert.Contains("Patient:", System.Text.Encoding.UTF8.GetString(bytes));

            var resource = await sandbox.FhirOk($"{fhir}/{url}", token.AccessToken);
            Assert.Equal("Binary", resource.GetProperty("resourceType").GetString());
            Assert.Equal(bytes, Convert.FromBase64String(resource.GetProperty("data").GetString()!));
        }
        Assert.Contains("text/plain", contentTypes);
    }

    [Fact]
    public async Task Metadata_names_the_smart_endpoints_and_the_profiles_resources()
    {
        var answer = await sandbox.Fhir($"{sandbox.FhirBase("riverside")}/metadata", token: null);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var statement = answer.Json;
        Assert.Equal("CapabilityStatement", statement.GetProperty("resourceType").GetString());
        Assert.Equal("4.0.1", statement.GetProperty("fhirVersion").GetString());
        var rest = statement.GetProperty("rest")[0];
        var oauth = rest.GetProperty("security").GetProperty("extension").EnumerateArray()
            .Single(e => e.GetProperty("url").GetString() == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
        var uris = oauth.GetProperty("extension").EnumerateArray()
            .ToDictionary(e => e.GetProperty("url").GetString()!, e => e.GetProperty("valueUri").GetString()!);
        var auth = sandbox.AuthBase("riverside");
        Assert.Equal($"{auth}/authorize", uris["authorize"]);
        Assert.Equal($"{auth}/token", uris["token"]);
        Assert.Equal($"{auth}/revoke", uris["revoke"]);
        var resources = rest.GetProperty("resource").EnumerateArray().ToDictionary(r => r.GetProperty("type").GetString()!);
        Assert.Contains("Observation", resources.Keys);
        Assert.Contains("Binary", resources.Keys);
        Assert.DoesNotContain("ExplanationOfBenefit", resources.Keys);
        var observationParams = resources["Observation"].GetProperty("searchParam").EnumerateArray()
            .Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Contains("category", observationParams);
        Assert.Contains("_lastUpdated", observationParams);

        var payer = (await sandbox.Fhir($"{sandbox.FhirBase("summit")}/metadata", token: null)).Json;
        var payerTypes = payer.GetProperty("rest")[0].GetProperty("resource").EnumerateArray()
            .Select(r => r.GetProperty("type").GetString()).ToList();
        Assert.Contains("ExplanationOfBenefit", payerTypes);
        Assert.Contains("Coverage", payerTypes);
        Assert.DoesNotContain("DocumentReference", payerTypes);
    }

    [Fact]
    public async Task Payer_serves_coverage_and_claims_and_each_profile_refuses_types_it_lacks()
    {
        var token = await sandbox.ConnectAsync("summit");
        var fhir = sandbox.FhirBase("summit");
        var coverage = await sandbox.FhirOk($"{fhir}/Coverage?patient={token.Patient}", token.AccessToken);
        Assert.True(coverage.GetProperty("total").GetInt32() >= 1);
        var claims = await sandbox.FhirOk($"{fhir}/ExplanationOfBenefit?patient={token.Patient}", token.AccessToken);
        Assert.True(claims.GetProperty("total").GetInt32() >= 1);
        var eob = claims.GetProperty("entry")[0].GetProperty("resource");
        Assert.StartsWith("Coverage/", eob.GetProperty("insurance")[0].GetProperty("coverage").GetProperty("reference").GetString());
        Assert.Equal(HttpStatusCode.NotFound,
            (await sandbox.Fhir($"{fhir}/DocumentReference?patient={token.Patient}", token.AccessToken)).Status);

        var epic = await sandbox.ConnectAsync("riverside");
        Assert.Equal(HttpStatusCode.NotFound,
            (await sandbox.Fhir($"{sandbox.FhirBase("riverside")}/ExplanationOfBenefit?patient={epic.Patient}", epic.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound,
            (await sandbox.Fhir($"{sandbox.FhirBase("riverside")}/Observation/does-not-exist", epic.AccessToken)).Status);
    }

    [Fact]
    public async Task A_forged_page_token_is_refused()
    {
        var token = await sandbox.ConnectAsync("lakeside");
        var fhir = sandbox.FhirBase("lakeside");
        var first = await sandbox.FhirOk($"{fhir}/Observation?patient={token.Patient}&_count=5", token.AccessToken);
        var next = first.GetProperty("link").EnumerateArray().Single(l => l.GetProperty("relation").GetString() == "next")
            .GetProperty("url").GetString()!;
        Assert.DoesNotContain("offset", next, StringComparison.OrdinalIgnoreCase);
        var tampered = next[..^3] + (next[^3] == 'A' ? "B" : "A") + next[^2..];
        Assert.Equal(HttpStatusCode.BadRequest, (await sandbox.Fhir(tampered, token.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Fhir(next, token.AccessToken)).Status);
    }

    [Fact]
    public async Task The_same_person_is_a_patient_at_two_hospitals_with_different_ids()
    {
        var riverside = (await sandbox.PatientListing("riverside"))[0];
        var lakeside = (await sandbox.PatientListing("lakeside"))[0];
        Assert.Equal(riverside.GetProperty("name").GetString(), lakeside.GetProperty("name").GetString());
        Assert.Equal(riverside.GetProperty("birth_date").GetString(), lakeside.GetProperty("birth_date").GetString());
        Assert.NotEqual(riverside.GetProperty("id").GetString(), lakeside.GetProperty("id").GetString());
        // Other patients differ: each hospital has its own seed.
        Assert.NotEqual((await sandbox.PatientListing("riverside"))[2].GetProperty("name").GetString(),
            (await sandbox.PatientListing("lakeside"))[2].GetProperty("name").GetString());
    }
}

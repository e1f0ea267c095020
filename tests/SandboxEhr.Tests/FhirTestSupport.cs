using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace SandboxEhr.Tests;

/// <summary>A FHIR answer as a client sees it.</summary>
public sealed record FhirAnswer(HttpStatusCode Status, string Body, HttpResponseMessage Response)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
    public string? ContentType => Response.Content.Headers.ContentType?.MediaType;
}

/// <summary>One page-walk of a search: every entry of every page, and what the server said about it.</summary>
public sealed record SearchWalk(int Total, int Pages, List<JsonElement> Matches, List<JsonElement> Includes);

internal static class FhirTestSupport
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<FhirAnswer> Fhir(this SandboxProcess sandbox, string url, string? token,
        string? accept = "application/fhir+json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (accept is not null)
            request.Headers.Accept.ParseAdd(accept);
        var response = await sandbox.HttpClient.SendAsync(request, Ct);
        var body = response.Content.Headers.ContentType?.MediaType?.Contains("json") == true
            ? await response.Content.ReadAsStringAsync(Ct)
            : "";
        return new FhirAnswer(response.StatusCode, body, response);
    }

    public static async Task<JsonElement> FhirOk(this SandboxProcess sandbox, string url, string token)
    {
        var answer = await sandbox.Fhir(url, token);
        Assert.True(answer.Status == HttpStatusCode.OK, $"GET {url}: {(int)answer.Status} {answer.Body}");
        Assert.Equal("application/fhir+json", answer.ContentType);
        return answer.Json;
    }

    /// <summary>Follows next links to the end, checking each page is a searchset with the same total.</summary>
    public static async Task<SearchWalk> SearchAll(this SandboxProcess sandbox, string url, string token, int maxPages = 500)
    {
        var matches = new List<JsonElement>();
        var includes = new List<JsonElement>();
        int? total = null;
        var pages = 0;
        string? next = url;
        while (next is not null)
        {
            Assert.True(++pages <= maxPages, $"more than {maxPages} pages for {url}");
            var bundle = await sandbox.FhirOk(next, token);
            Assert.Equal("Bundle", bundle.GetProperty("resourceType").GetString());
            Assert.Equal("searchset", bundle.GetProperty("type").GetString());
            var pageTotal = bundle.GetProperty("total").GetInt32();
            Assert.True(total is null || total == pageTotal, "total changed between pages");
            total = pageTotal;
            if (bundle.TryGetProperty("entry", out var entries))
            {
                foreach (var entry in entries.EnumerateArray())
                {
                    var mode = entry.GetProperty("search").GetProperty("mode").GetString();
                    if (mode == "match")
                        matches.Add(entry);
                    else if (mode == "include")
                        includes.Add(entry);
                }
            }
            next = bundle.GetProperty("link").EnumerateArray()
                .Where(l => l.GetProperty("relation").GetString() == "next")
                .Select(l => l.GetProperty("url").GetString())
                .FirstOrDefault();
        }
        return new SearchWalk(total ?? 0, pages, matches, includes);
    }

    public static string ResourceKey(JsonElement entry)
    {
        var resource = entry.GetProperty("resource");
        return $"{resource.GetProperty("resourceType").GetString()}/{resource.GetProperty("id").GetString()}";
    }

    public static async Task<JsonElement> PatientListing(this SandboxProcess sandbox, string hospitalId) =>
        await sandbox.GetJson($"/hospitals/{hospitalId}/patients");

    /// <summary>resource_counts of one patient from the test hook.</summary>
    public static async Task<Dictionary<string, int>> ResourceCounts(this SandboxProcess sandbox, string hospitalId, string patientId)
    {
        var listing = await sandbox.PatientListing(hospitalId);
        var patient = listing.EnumerateArray().Single(p => p.GetProperty("id").GetString() == patientId);
        return patient.GetProperty("resource_counts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
    }

    /// <summary>The id of the patient with the most resources (the generator's big one).</summary>
    public static async Task<string> LargestPatient(this SandboxProcess sandbox, string hospitalId)
    {
        var listing = await sandbox.PatientListing(hospitalId);
        return listing.EnumerateArray()
            .OrderByDescending(p => p.GetProperty("resource_counts").EnumerateObject().Sum(c => c.Value.GetInt32()))
            .First().GetProperty("id").GetString()!;
    }
}

/// <summary>A sandbox process with little data (three patients per hospital, no big one), for quick starts.</summary>
public class SmallSandbox : SandboxProcess
{
    protected override IEnumerable<string> ExtraArguments =>
    [
        "--Sandbox:Data:PatientsPerHospital=3",
        "--Sandbox:Data:IncludeLargePatient=false",
        .. MoreArguments,
    ];

    protected virtual IEnumerable<string> MoreArguments => [];
}

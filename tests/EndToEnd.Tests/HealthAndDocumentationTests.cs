using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

public sealed class HealthAndDocumentationTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Fact]
    public async Task Liveness_and_readiness_answer_200_without_an_api_key()
    {
        using var live = await Anonymous.GetAsync("health/live", Cancel);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var ready = await Anonymous.GetAsync("health/ready", Cancel);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task OpenApi_document_describes_the_session_endpoints()
    {
        using var response = await Anonymous.GetAsync("openapi/v1.json", Cancel);
        var document = await Json.ReadAsync(response, HttpStatusCode.OK);
        Assert.StartsWith("3.", document.Str("openapi"));
        var paths = document["paths"]!.AsObject();
        Assert.True(paths.ContainsKey("/v1/patient-sessions"), string.Join(", ", paths.Select(p => p.Key)));
        Assert.True(paths.ContainsKey("/v1/patient-sessions/{id}"), string.Join(", ", paths.Select(p => p.Key)));
        Assert.NotNull(paths["/v1/patient-sessions"]!["post"]);
    }

    [Fact]
    public async Task Interactive_api_reference_page_is_served()
    {
        using var response = await Anonymous.GetAsync("scalar/v1", Cancel);
        var body = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("openapi/v1.json", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_requires_the_admin_credential()
    {
        using var anonymous = await Anonymous.GetAsync("dashboard", Cancel);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "dashboard");
        wrong.Headers.Authorization = Basic(ServiceProcesses.AdminUser, "not-the-password");
        using var refused = await Anonymous.SendAsync(wrong, Cancel);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // An API key is a tenant's credential, not an operator's.
        using var tenant = await ApiA.GetAsync("dashboard", Cancel);
        Assert.True(tenant.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"{(int)tenant.StatusCode}");

        using var right = new HttpRequestMessage(HttpMethod.Get, "dashboard");
        right.Headers.Authorization = Basic(ServiceProcesses.AdminUser, Services.AdminPassword);
        using var allowed = await Anonymous.SendAsync(right, Cancel);
        Assert.True(allowed.StatusCode is HttpStatusCode.OK or HttpStatusCode.Found or HttpStatusCode.MovedPermanently,
            $"{(int)allowed.StatusCode}");
    }

    [Fact]
    public async Task Sources_list_the_sandbox_hospitals_and_search_by_name()
    {
        var riverside = await Flow.SourceIdAsync("riverside");
        Assert.StartsWith("src_", riverside, StringComparison.Ordinal);

        var found = await Json.GetAsync(ApiA, "v1/sources?q=Lakeside");
        var names = found["data"]!.AsArray().Select(s => s.Str("name")).ToList();
        Assert.Contains("Lakeside Medical Center", names);
        Assert.DoesNotContain("Riverside General Hospital", names);

        var one = await Json.GetAsync(ApiA, $"v1/sources/{riverside}");
        Assert.Equal("Riverside General Hospital", one.Str("name"));
        Assert.Equal(Services.FhirBase("riverside").TrimEnd('/'), one.Str("fhir_base_url")?.TrimEnd('/'));
        Assert.Equal("WI", one.Str("state"));

        using var missing = await ApiA.GetAsync("v1/sources/src_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
}

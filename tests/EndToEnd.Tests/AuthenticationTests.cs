using System.Net;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests;

public sealed class AuthenticationTests(ServiceProcesses services) : EndToEndTest(services)
{
    public static TheoryData<string, string> ProtectedCalls => new()
    {
        { "GET", "v1/sources" },
        { "GET", "v1/patient-sessions/ps_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
        { "GET", "v1/patients/someone/patient-sessions" },
        { "GET", "v1/patients/someone/connections" },
        { "GET", "v1/connections/conn_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
        { "POST", "v1/patient-sessions" },
    };

    [Theory]
    [MemberData(nameof(ProtectedCalls))]
    public async Task No_api_key_is_401_problem(string method, string path)
    {
        using var response = await SendAsync(Anonymous, method, path);
        await AssertUnauthorizedAsync(response);
    }

    [Theory]
    [MemberData(nameof(ProtectedCalls))]
    public async Task Unknown_api_key_is_401_problem(string method, string path)
    {
        using var client = Services.ApiClient("pc_test_" + Guid.NewGuid().ToString("N"));
        using var response = await SendAsync(client, method, path);
        await AssertUnauthorizedAsync(response);
    }

    [Fact]
    public async Task Malformed_authorization_headers_are_401()
    {
        foreach (var header in new[] { "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", Services.ApiKeyA, "bearer-" + Services.ApiKeyA })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "v1/sources");
            request.Headers.TryAddWithoutValidation("Authorization", header);
            using var response = await Anonymous.SendAsync(request, Cancel);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"'{header}' answered {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task A_valid_key_is_accepted()
    {
        using var response = await ApiA.GetAsync("v1/sources", Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent("""{"patient_id":"x","return_url":"http://127.0.0.1/"}""", System.Text.Encoding.UTF8, "application/json");
        }
        return await client.SendAsync(request, Cancel);
    }

    private static async Task AssertUnauthorizedAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }
}

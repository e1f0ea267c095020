using System.Net;
using System.Text.Json;

namespace SandboxEhr.Tests;

internal static class AuthTestSupport
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Asserts an RFC 6749 5.2 error body and status, and returns the body for more checks.</summary>
    public static async Task<JsonElement> AssertOAuthError(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(error, json.RootElement.GetProperty("error").GetString());
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("error_description").GetString()));
        return json.RootElement.Clone();
    }

    public static async Task<JsonElement> GetJson(this SandboxProcess sandbox, string url)
    {
        using var response = await sandbox.HttpClient.GetAsync(url, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    public static async Task<IReadOnlyList<string>> PatientIds(this SandboxProcess sandbox, string hospitalId)
    {
        var patients = await sandbox.GetJson($"/hospitals/{hospitalId}/patients");
        return [.. patients.EnumerateArray().Select(p => p.GetProperty("id").GetString()!)];
    }
}

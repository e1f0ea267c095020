using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PatientConnect.Connections;

namespace PatientConnect.Grains.Tests.Api;

/// <summary>
/// The Api's HTTP contract on WebApplicationFactory with this assembly's test cluster: routing, API-key
/// auth, problem+json, field validation, and grain refusals mapped by their type (not their text).
/// </summary>
public sealed class ApiContractTests(ClusterFixture cluster) : IAsyncLifetime
{
    private readonly ApiFactory _factory = new(cluster);
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task A_request_without_an_API_key_is_401_problem_json()
    {
        using var anonymous = _factory.CreateClient();
        using var response = await anonymous.GetAsync("/v1/connections/" + Ids.NewConnectionId(), Cancel);
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_unknown_API_key_is_401_and_a_known_one_reaches_the_route()
    {
        using var stranger = _factory.CreateClient();
        stranger.DefaultRequestHeaders.Authorization = new("Bearer", "pc_not_a_key_of_anyone_" + Guid.NewGuid().ToString("N"));
        using (var refused = await stranger.GetAsync("/v1/connections/" + Ids.NewConnectionId(), Cancel))
        {
            await AssertProblemAsync(refused, HttpStatusCode.Unauthorized);
        }
        using var client = await _factory.TenantClientAsync();
        using var missing = await client.GetAsync("/v1/connections/" + Ids.NewConnectionId(), Cancel);
        var problem = await AssertProblemAsync(missing, HttpStatusCode.NotFound);
        Assert.Equal("not_found", problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Routing_answers_404_problem_for_an_id_that_is_not_a_connection_id()
    {
        using var client = await _factory.TenantClientAsync();
        using var response = await client.GetAsync("/v1/connections/ps_not_a_connection", Cancel);
        await AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_bad_body_is_400_naming_the_field()
    {
        using var client = await _factory.TenantClientAsync();
        using var response = await client.PostAsJsonAsync("/v1/patient-sessions", new { patient_id = "p-api-1", return_url = "ftp://nowhere" }, Cancel);
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("return_url", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_cursor_the_grain_did_not_issue_is_400_naming_cursor()
    {
        using var client = await _factory.TenantClientAsync();
        // The sources list pages in the directory grain: the refusal crosses the grain boundary as a typed field error.
        using var response = await client.GetAsync("/v1/sources?q=riverside&cursor=bm90LWFuLWlk", Cancel);
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("cursor", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Syncing_a_connection_that_is_not_active_is_409_connection_not_active()
    {
        var connectionId = Ids.NewConnectionId();
        await cluster.Grains.GetGrain<IConnectionGrain>(connectionId)
            .Fail(new ConnectionBinding(ClusterFixture.TenantA, "p-api-409", cluster.SourceId("riverside")), "token_exchange_failed", "The EHR said no.");
        using var client = await _factory.TenantClientAsync();
        using var response = await client.PostAsync($"/v1/connections/{connectionId}/sync", null, Cancel);
        var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal("connection_not_active", problem.GetProperty("code").GetString());
        Assert.Contains("failed", problem.GetProperty("detail").GetString());

        using var foreign = await client.PostAsync($"/v1/connections/{Ids.NewConnectionId()}/sync", null, Cancel);
        await AssertProblemAsync(foreign, HttpStatusCode.NotFound);
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }
}

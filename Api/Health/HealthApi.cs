using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using PatientConnect.Sources;

namespace PatientConnect.Api.Health;

public static class HealthApi
{
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(3);

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/health").WithTags("Health");
        group.MapGet("/live", () => TypedResults.Ok(new HealthJson("live", null)))
            .WithSummary("The process is up.");
        group.MapGet("/ready", Ready)
            .WithSummary("The cluster client is connected, a grain answers and Postgres answers.");
        return endpoints;
    }

    private static async Task<JsonHttpResult<HealthJson>> Ready(
        ClusterConnectionState connection, IClusterClient cluster, NpgsqlDataSource database, CancellationToken requestAborted)
    {
        var grainTask = Check(async ct =>
        {
            // A stateless worker with no storage: proves a gateway routes to a live silo, cheaply.
            await cluster.GetGrain<ISourceDirectoryGrain>(0).GetMany([]).WaitAsync(ct);
        }, requestAborted);
        var databaseTask = Check(async ct =>
        {
            await using var command = database.CreateCommand("select 1");
            await command.ExecuteScalarAsync(ct);
        }, requestAborted);
        var grain = await grainTask;
        // The gateway-count notification is not guaranteed at first connect; a grain that answered
        // proves the connection just as well.
        var clusterCheck = connection.Connected || (!connection.Lost && grain == "ok") ? "ok" : "disconnected";
        var checks = new Dictionary<string, string>
        {
            ["cluster"] = clusterCheck,
            ["grain"] = grain,
            ["postgres"] = await databaseTask,
        };
        var ready = checks.Values.All(v => v == "ok");
        return TypedResults.Json(new HealthJson(ready ? "ready" : "unavailable", checks),
            statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    // Health answers are public: report which check failed, never why (no connection strings, no hosts).
    private static async Task<string> Check(Func<CancellationToken, Task> probe, CancellationToken requestAborted)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        timeout.CancelAfter(CheckTimeout);
        try
        {
            await probe(timeout.Token);
            return "ok";
        }
        catch (Exception) when (!requestAborted.IsCancellationRequested)
        {
            return timeout.IsCancellationRequested ? "timeout" : "failed";
        }
    }

    public sealed record HealthJson(string Status, IReadOnlyDictionary<string, string>? Checks);
}

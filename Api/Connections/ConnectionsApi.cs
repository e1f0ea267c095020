using Microsoft.AspNetCore.Http.HttpResults;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Errors;
using PatientConnect.Connections;
using PatientConnect.Contract;

namespace PatientConnect.Api.Connections;

public static class ConnectionsApi
{
    public static IEndpointRouteBuilder MapConnectionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/connections").WithTags("Connections");
        group.MapGet("/{id}", Get)
            .WithName("GetConnection")
            .WithSummary("One connection: a patient's authorized link to one source.");
        group.MapDelete("/{id}", Delete)
            .WithName("DisconnectConnection")
            .WithSummary("Revokes the tokens at the source where it offers revocation, forgets them and sets disconnected; delete_records=true also deletes the connection's records.");
        group.MapPost("/{id}/sync", Sync)
            .WithName("StartConnectionSync")
            .WithSummary("Starts a new sync of an active connection now (202).");
        return endpoints;
    }

    private static async Task<Results<Ok<ConnectionJson>, ProblemHttpResult>> Get(string id, HttpContext http, IClusterClient cluster)
    {
        if (!Ids.IsValid(id, Ids.ConnectionPrefix)) return Problems.NotFound("connection", id);
        var view = await cluster.GetGrain<IConnectionGrain>(id).Get(http.TenantId());
        return view is null ? Problems.NotFound("connection", id) : TypedResults.Ok(ConnectionJson.From(view));
    }

    private static async Task<Results<Ok<ConnectionJson>, ProblemHttpResult>> Delete(
        string id, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "delete_records")] string? deleteRecords, HttpContext http, IClusterClient cluster)
    {
        if (!Ids.IsValid(id, Ids.ConnectionPrefix)) return Problems.NotFound("connection", id);
        bool delete;
        switch (deleteRecords)
        {
            case null or "" or "false": delete = false; break;
            case "true": delete = true; break;
            default: return Problems.Validation("delete_records", "must be true or false.");
        }
        var view = await cluster.GetGrain<IConnectionGrain>(id).Disconnect(http.TenantId(), delete);
        return view is null ? Problems.NotFound("connection", id) : TypedResults.Ok(ConnectionJson.From(view));
    }

    private static async Task<Results<Accepted<ConnectionJson>, ProblemHttpResult>> Sync(string id, HttpContext http, IClusterClient cluster)
    {
        if (!Ids.IsValid(id, Ids.ConnectionPrefix)) return Problems.NotFound("connection", id);
        var outcome = await cluster.GetGrain<IConnectionGrain>(id).RequestSync(http.TenantId());
        if (outcome.Refusal is { } refusal) return Problems.Refused(refusal);
        return TypedResults.Accepted($"/v1/connections/{id}", ConnectionJson.From(outcome.Value!));
    }
}

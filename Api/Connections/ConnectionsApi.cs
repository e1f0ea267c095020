using Microsoft.AspNetCore.Http.HttpResults;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Errors;
using PatientConnect.Connections;

namespace PatientConnect.Api.Connections;

public static class ConnectionsApi
{
    public static IEndpointRouteBuilder MapConnectionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/connections").WithTags("Connections");
        group.MapGet("/{id}", Get)
            .WithName("GetConnection")
            .WithSummary("One connection: a patient's authorized link to one source.");
        return endpoints;
    }

    private static async Task<Results<Ok<ConnectionJson>, ProblemHttpResult>> Get(string id, HttpContext http, IClusterClient cluster)
    {
        if (!Ids.IsValid(id, Ids.ConnectionPrefix)) return Problems.NotFound("connection", id);
        var view = await cluster.GetGrain<IConnectionGrain>(id).Get(http.TenantId());
        return view is null ? Problems.NotFound("connection", id) : TypedResults.Ok(ConnectionJson.From(view));
    }
}

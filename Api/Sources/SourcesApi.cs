using Microsoft.AspNetCore.Http.HttpResults;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Hosting;
using PatientConnect.Sources;

namespace PatientConnect.Api.Sources;

/// <summary>The directory is global (not per tenant) but still behind an API key.</summary>
public static class SourcesApi
{
    public static IEndpointRouteBuilder MapSourcesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/sources").WithTags("Sources");
        group.MapGet("/", Search)
            .WithName("SearchSources")
            .WithSummary("Searches the directory of hospitals and insurers.");
        group.MapGet("/{id}", Get)
            .WithName("GetSource")
            .WithSummary("One directory entry.");
        return endpoints;
    }

    private static async Task<Results<Ok<ListJson<SourceJson>>, ProblemHttpResult>> Search(
        string? q, string? city, string? state, string? zip, string? vendor, string? limit, string? cursor,
        IClusterClient cluster, IConfiguration configuration)
    {
        var errors = new List<FieldError>();
        var query = new SourceQuery(
            QueryParameters.Text("q", q, errors),
            QueryParameters.Text("city", city, errors),
            QueryParameters.Text("state", state, errors),
            QueryParameters.Text("zip", zip, errors),
            QueryParameters.Text("vendor", vendor, errors),
            QueryParameters.Limit(limit, errors),
            QueryParameters.Cursor(cursor, errors));
        if (errors.Count > 0) return Problems.Validation(errors);

        var page = await cluster.GetGrain<ISourceDirectoryGrain>(0).Search(query);
        var baseUrl = configuration["PatientConnect:PublicBaseUrl"];
        return TypedResults.Ok(new ListJson<SourceJson>(page.Data.Select(s => SourceJson.From(s, baseUrl)).ToList(), page.NextCursor));
    }

    private static async Task<Results<Ok<SourceJson>, ProblemHttpResult>> Get(string id, IClusterClient cluster, IConfiguration configuration)
    {
        if (!Ids.IsValid(id, Ids.SourcePrefix)) return Problems.NotFound("source", id);
        var view = await cluster.GetGrain<ISourceDirectoryGrain>(0).Get(id);
        return view is null ? Problems.NotFound("source", id) : TypedResults.Ok(SourceJson.From(view, configuration["PatientConnect:PublicBaseUrl"]));
    }
}

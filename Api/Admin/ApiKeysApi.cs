using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Hosting;
using PatientConnect.Tenants;

namespace PatientConnect.Api.Admin;

/// <summary>
/// Operators manage tenants' API keys (Basic admin credential): create (the key is in this answer
/// only), list by visible prefix, revoke. Keys from configuration keep working alongside (development).
/// </summary>
public static class ApiKeysApi
{
    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/admin/tenants/{tenant_id}/api-keys")
            .RequireAuthorization(AuthSetup.AdminPolicy)
            .WithTags("Admin");
        group.MapPost("/", Create)
            .WithName("CreateApiKey")
            .WithSummary("Creates an API key for the tenant; the answer is the only place the key appears.")
            .Produces<CreatedApiKeyJson>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/", List)
            .WithName("ListApiKeys")
            .WithSummary("The tenant's API keys created here, by prefix, revoked ones included.");
        group.MapDelete("/{key_id}", Revoke)
            .WithName("RevokeApiKey")
            .WithSummary("Revokes a key: refused from the next look-up on (within about a second on every Api instance).");
        return endpoints;
    }

    private static async Task<IResult> Create(
        [Microsoft.AspNetCore.Mvc.FromRoute(Name = "tenant_id")] string tenantId, HttpContext http, IClusterClient cluster)
    {
        if (!Ids.IsValidPatientId(tenantId)) return Problems.Validation("tenant_id", "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'.");
        string? name = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            var (body, problem) = await JsonBody.ReadObjectAsync(http.Request, http.RequestAborted);
            if (problem is not null) return problem;
            using var document = body!.Document;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name != "name") return Problems.Validation(property.Name, "is not a field of an API key (expected: name).");
                if (property.Value.ValueKind == JsonValueKind.Null) continue;
                if (property.Value.ValueKind != JsonValueKind.String || property.Value.GetString() is not { Length: <= 100 } text
                    || text.Any(char.IsControl))
                {
                    return Problems.Validation("name", "must be a string of at most 100 printable characters.");
                }
                name = text;
            }
        }
        var created = await cluster.GetGrain<ITenantApiKeysGrain>(tenantId).Create(name);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"/admin/tenants/{tenantId}/api-keys/{created.Key.Id}",
            new CreatedApiKeyJson(created.Key.Id, created.Key.Prefix, created.Key.Name, created.Secret, ApiJson.Utc(created.Key.CreatedAt)));
    }

    private static async Task<Results<Ok<ListJson<ApiKeyJson>>, ProblemHttpResult>> List(
        [Microsoft.AspNetCore.Mvc.FromRoute(Name = "tenant_id")] string tenantId, IClusterClient cluster)
    {
        if (!Ids.IsValidPatientId(tenantId)) return Problems.Validation("tenant_id", "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'.");
        var keys = await cluster.GetGrain<ITenantApiKeysGrain>(tenantId).List();
        return TypedResults.Ok(new ListJson<ApiKeyJson>(keys.Select(k =>
            new ApiKeyJson(k.Id, k.Prefix, k.Name, ApiJson.Utc(k.CreatedAt), ApiJson.Utc(k.RevokedAt))).ToList(), null));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Revoke(
        [Microsoft.AspNetCore.Mvc.FromRoute(Name = "tenant_id")] string tenantId,
        [Microsoft.AspNetCore.Mvc.FromRoute(Name = "key_id")] string keyId, IClusterClient cluster)
    {
        if (!Ids.IsValidPatientId(tenantId) || !keyId.StartsWith("key_", StringComparison.Ordinal) || keyId.Length > 40)
            return Problems.NotFound("API key", keyId);
        return await cluster.GetGrain<ITenantApiKeysGrain>(tenantId).Revoke(keyId)
            ? TypedResults.NoContent()
            : Problems.NotFound("API key", keyId);
    }

    public sealed record ApiKeyJson(string Id, string Prefix, string? Name, DateTime CreatedAt, DateTime? RevokedAt);

    public sealed record CreatedApiKeyJson(string Id, string Prefix, string? Name, string Key, DateTime CreatedAt);
}

using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Hosting;
using PatientConnect.Api.Idempotency;
using PatientConnect.Api.Sessions;
using PatientConnect.Webhooks;

namespace PatientConnect.Api.Webhooks;

public static class WebhooksApi
{
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/webhook-endpoints").WithTags("Webhooks");

        group.MapPost("/", Create)
            .WithName("CreateWebhookEndpoint")
            .WithSummary("Registers a URL that receives every event of this tenant, signed the Standard Webhooks way; the answer carries the secret.")
            .Accepts<CreateWebhookEndpointDoc>("application/json")
            .Produces<CreatedWebhookEndpointJson>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/", List)
            .WithName("ListWebhookEndpoints")
            .WithSummary("This tenant's webhook endpoints.");
        group.MapDelete("/{id}", Delete)
            .WithName("DeleteWebhookEndpoint")
            .WithSummary("Stops deliveries to an endpoint.");
        group.MapGet("/{id}/deliveries", Deliveries)
            .WithName("ListWebhookDeliveries")
            .WithSummary("Deliveries to one endpoint, newest first, with every attempt.");
        return endpoints;
    }

    private static async Task<IResult> Create(HttpContext http, IClusterClient cluster, IOptionsSnapshot<ApiOptions> options, TimeProvider time)
    {
        var tenantId = http.TenantId();
        var (body, problem) = await JsonBody.ReadObjectAsync(http.Request, http.RequestAborted);
        if (problem is not null) return problem;
        using var document = body!.Document;
        var root = document.RootElement;
        var errors = new List<FieldError>();
        string? url = null;
        if (!root.TryGetProperty("url", out var urlElement) || urlElement.ValueKind != JsonValueKind.String)
        {
            errors.Add(new FieldError("url", "is required: an absolute https URL."));
        }
        else if (ReturnUrls.Check(urlElement.GetString()!, options.Value.AllowLoopbackHttp) is { } why)
        {
            errors.Add(new FieldError("url", why));
        }
        else
        {
            url = urlElement.GetString();
        }
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name != "url") errors.Add(new FieldError(property.Name, "is not a field of a webhook endpoint."));
        }
        if (errors.Count > 0) return Problems.Validation(errors);
        // Where the URL points is the grains' rule; asked first so a refused URL claims no Idempotency-Key.
        if (await cluster.GetGrain<IWebhookEndpointsGrain>(tenantId).CheckUrl(url!) is { } refused) return Problems.Validation("url", refused);

        return await IdempotentPost.RunAsync(http, cluster, time, tenantId, body.Raw, async () =>
        {
            var creation = await cluster.GetGrain<IWebhookEndpointsGrain>(tenantId).Create(url!);
            if (creation.Created is not { } created) return new PostOutcome.Refused(Problems.Validation("url", creation.UrlRefused ?? "was refused."));
            var json = new CreatedWebhookEndpointJson(created.Endpoint.Id, created.Endpoint.Url, created.Secret, ApiJson.Utc(created.Endpoint.CreatedAt));
            return new PostOutcome.Done(StatusCodes.Status201Created, json, $"/v1/webhook-endpoints/{created.Endpoint.Id}");
        });
    }

    private static async Task<Results<Ok<ListJson<WebhookEndpointJson>>, ProblemHttpResult>> List(
        string? limit, string? cursor, HttpContext http, IClusterClient cluster)
    {
        var errors = new List<FieldError>();
        var pageSize = QueryParameters.Limit(limit, errors);
        var offset = OffsetCursor.Parse(cursor, errors);
        if (errors.Count > 0) return Problems.Validation(errors);
        // A tenant has a handful of endpoints, in creation order from the grain: paged here.
        var list = await cluster.GetGrain<IWebhookEndpointsGrain>(http.TenantId()).List();
        var data = list.Skip(offset).Take(pageSize).Select(WebhookEndpointJson.From).ToList();
        var next = offset + pageSize < list.Count ? OffsetCursor.Format(offset + pageSize) : null;
        return TypedResults.Ok(new ListJson<WebhookEndpointJson>(data, next));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, HttpContext http, IClusterClient cluster)
    {
        if (!Ids.IsValid(id, Ids.WebhookEndpointPrefix)) return Problems.NotFound("webhook endpoint", id);
        return await cluster.GetGrain<IWebhookEndpointsGrain>(http.TenantId()).Delete(id)
            ? TypedResults.NoContent()
            : Problems.NotFound("webhook endpoint", id);
    }

    private static async Task<Results<Ok<ListJson<WebhookDeliveryJson>>, ProblemHttpResult>> Deliveries(
        string id, string? limit, string? cursor, HttpContext http, IClusterClient cluster)
    {
        if (!Ids.IsValid(id, Ids.WebhookEndpointPrefix)) return Problems.NotFound("webhook endpoint", id);
        var errors = new List<FieldError>();
        var pageSize = QueryParameters.Limit(limit, errors);
        var pageCursor = QueryParameters.Cursor(cursor, errors);
        if (errors.Count > 0) return Problems.Validation(errors);
        var page = await cluster.GetGrain<IWebhookEndpointsGrain>(http.TenantId()).ListDeliveries(id, pageSize, pageCursor);
        return page is null
            ? Problems.NotFound("webhook endpoint", id)
            : TypedResults.Ok(new ListJson<WebhookDeliveryJson>(page.Data.Select(WebhookDeliveryJson.From).ToList(), page.NextCursor));
    }

    /// <summary>The request body as documented in OpenAPI.</summary>
    public sealed record CreateWebhookEndpointDoc(string Url);
}

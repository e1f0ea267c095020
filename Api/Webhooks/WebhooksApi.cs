using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Hosting;
using PatientConnect.Api.Idempotency;
using PatientConnect.Api.Records;
using PatientConnect.Api.Sessions;
using PatientConnect.Webhooks;

namespace PatientConnect.Api.Webhooks;

public static class WebhooksApi
{
    private const string EndpointExample = """
        {"id": "whe_5b7c9d2f4g6h8j2k4m6n8p2q4r6s8t2v", "url": "https://app.example/hooks", "created_at": "2026-01-31T10:00:00Z",
         "event_types": ["connection.active", "connection.refresh_failed"], "enabled": true, "updated_at": "2026-02-01T09:00:00Z",
         "secret_rotated_at": "2026-02-01T09:00:00Z", "previous_secret_expires_at": "2026-02-02T09:00:00Z"}
        """;

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/webhook-endpoints").WithTags("Webhooks");

        group.MapPost("/", Create)
            .WithName("CreateWebhookEndpoint")
            .WithSummary("Registers a URL that receives this tenant's events (every type, or those named in event_types), signed the Standard Webhooks way; the answer carries the secret.")
            .Accepts<CreateWebhookEndpointDoc>("application/json")
            .WithRequestExample("""{"url": "https://app.example/hooks", "event_types": ["connection.active", "connection.refresh_failed"]}""")
            .Produces<CreatedWebhookEndpointJson>(StatusCodes.Status201Created)
            .WithResponseExample(StatusCodes.Status201Created, "application/json", """
                {"id": "whe_5b7c9d2f4g6h8j2k4m6n8p2q4r6s8t2v", "url": "https://app.example/hooks",
                 "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw2Kx9f8u1hGk=", "created_at": "2026-01-31T10:00:00Z",
                 "event_types": ["connection.active", "connection.refresh_failed"], "enabled": true}
                """)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/", List)
            .WithName("ListWebhookEndpoints")
            .WithSummary("This tenant's webhook endpoints, oldest first, paged with limit and cursor.")
            .WithResponseExample(StatusCodes.Status200OK, "application/json", $$"""{"data": [{{EndpointExample}}], "next_cursor": null}""")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/{id}", Get)
            .WithName("GetWebhookEndpoint")
            .WithSummary("One webhook endpoint (never its secret).")
            .WithResponseExample(StatusCodes.Status200OK, "application/json", EndpointExample)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPatch("/{id}", Update)
            .WithName("UpdateWebhookEndpoint")
            .WithSummary("Enables or disables an endpoint, or sets its event-type filter (null: every type). A disabled endpoint gets no " +
                         "events; deliveries already queued for it wait until it is enabled (POST …/replay catches up on the rest).")
            .Accepts<UpdateWebhookEndpointDoc>("application/json")
            .WithRequestExample("""{"enabled": false, "event_types": null}""")
            .Produces<WebhookEndpointJson>()
            .WithResponseExample(StatusCodes.Status200OK, "application/json", EndpointExample)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/rotate-secret", RotateSecret)
            .WithName("RotateWebhookSecret")
            .WithSummary("A new signing secret (shown once). For overlap_seconds (default PatientConnect:Webhooks:SecretRotationOverlap, 24 h; " +
                         "0 to 604800) every event carries two signatures, one per secret, so a receiver holding either verifies it.")
            .Accepts<RotateWebhookSecretDoc>("application/json")
            .WithRequestExample("""{"overlap_seconds": 86400}""")
            .Produces<RotatedWebhookSecretJson>()
            .WithResponseExample(StatusCodes.Status200OK, "application/json", """
                {"id": "whe_5b7c9d2f4g6h8j2k4m6n8p2q4r6s8t2v", "url": "https://app.example/hooks",
                 "secret": "whsec_3Nq0vQe8cXo3bJ2L6yFZr7mW9aT1kHs4uD5pG8iE0Cw=", "secret_rotated_at": "2026-02-01T09:00:00Z",
                 "previous_secret_expires_at": "2026-02-02T09:00:00Z", "event_types": null, "enabled": true}
                """)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/replay", Replay)
            .WithName("ReplayWebhookEvents")
            .WithSummary("Sends the tenant's stored events created at or after since (that the endpoint's filter accepts) to this endpoint " +
                         "again, per connection or session in their original order, with the same event ids. 202 with how many were queued.")
            .Accepts<ReplayWebhookEventsDoc>("application/json")
            .WithRequestExample("""{"since": "2026-01-31T00:00:00Z"}""")
            .Produces<WebhookReplayJson>(StatusCodes.Status202Accepted)
            .WithResponseExample(StatusCodes.Status202Accepted, "application/json", """
                {"endpoint_id": "whe_5b7c9d2f4g6h8j2k4m6n8p2q4r6s8t2v", "since": "2026-01-31T00:00:00Z", "events": 42}
                """)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", Delete)
            .WithName("DeleteWebhookEndpoint")
            .WithSummary("Stops deliveries to an endpoint.");
        group.MapGet("/{id}/deliveries", Deliveries)
            .WithName("ListWebhookDeliveries")
            .WithSummary("Deliveries to one endpoint, newest first, with every attempt.");
        return endpoints;
    }

    private static async Task<IResult> Create(HttpContext http, IClusterClient cluster, IOptionsMonitor<ApiOptions> options, TimeProvider time)
    {
        var tenantId = http.TenantId();
        var (body, problem) = await JsonBody.ReadObjectAsync(http.Request, http.RequestAborted);
        if (problem is not null) return problem;
        using var document = body!.Document;
        var root = document.RootElement;
        var errors = new List<FieldError>();
        string? url = null;
        IReadOnlyList<string>? eventTypes = null;
        if (!root.TryGetProperty("url", out var urlElement) || urlElement.ValueKind != JsonValueKind.String)
        {
            errors.Add(new FieldError("url", "is required: an absolute https URL."));
        }
        else if (ReturnUrls.Check(urlElement.GetString()!, options.CurrentValue.AllowLoopbackHttp) is { } why)
        {
            errors.Add(new FieldError("url", why));
        }
        else
        {
            url = urlElement.GetString();
        }
        if (root.TryGetProperty("event_types", out var typesElement)) eventTypes = EventTypes(typesElement, errors);
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name is not ("url" or "event_types")) errors.Add(new FieldError(property.Name, "is not a field of a webhook endpoint."));
        }
        if (errors.Count > 0) return Problems.Validation(errors);
        // Where the URL points is the grains' rule; asked first so a refused URL claims no Idempotency-Key.
        if (await cluster.GetGrain<IWebhookEndpointsGrain>(tenantId).CheckUrl(url!) is { } refused) return Problems.Validation("url", refused);

        return await IdempotentPost.RunAsync(http, cluster, time, tenantId, body.Raw, async () =>
        {
            var creation = await cluster.GetGrain<IWebhookEndpointsGrain>(tenantId).Create(url!, eventTypes);
            if (creation.Created is not { } created) return new PostOutcome.Refused(Problems.Validation("url", creation.UrlRefused ?? "was refused."));
            var e = created.Endpoint;
            var json = new CreatedWebhookEndpointJson(e.Id, e.Url, created.Secret, ApiJson.Utc(e.CreatedAt), e.EventTypes, e.Enabled);
            return new PostOutcome.Done(StatusCodes.Status201Created, json, $"/v1/webhook-endpoints/{e.Id}");
        });
    }

    /// <summary>
    /// event_types: null (every type) or a non-empty array of deliverable type names; a history-only
    /// type (connection.refreshed, records.sync.started) is never sent, so it is refused here.
    /// </summary>
    private static IReadOnlyList<string>? EventTypes(JsonElement element, List<FieldError> errors)
    {
        if (element.ValueKind == JsonValueKind.Null) return null;
        var allowed = "one of " + string.Join(", ", WebhookEventTypes.Deliverable);
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() == 0)
        {
            errors.Add(new FieldError("event_types", $"must be null (every type) or a non-empty array of event types, each {allowed}."));
            return null;
        }
        var types = new List<string>();
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String && WebhookEventTypes.Deliverable.Contains(item.GetString()!, StringComparer.Ordinal))
            {
                types.Add(item.GetString()!);
            }
            else
            {
                errors.Add(new FieldError("event_types", $"'{(item.ValueKind == JsonValueKind.String ? item.GetString() : item.ToString())}' is not an event type a webhook receives; each is {allowed}."));
                return null;
            }
        }
        return types;
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

    private static async Task<Results<Ok<WebhookEndpointJson>, ProblemHttpResult>> Get(string id, HttpContext http, IClusterClient cluster)
    {
        if (!Ids.IsValid(id, Ids.WebhookEndpointPrefix)) return Problems.NotFound("webhook endpoint", id);
        return await cluster.GetGrain<IWebhookEndpointsGrain>(http.TenantId()).Get(id) is { } view
            ? TypedResults.Ok(WebhookEndpointJson.From(view))
            : Problems.NotFound("webhook endpoint", id);
    }

    private static async Task<IResult> Update(string id, HttpContext http, IClusterClient cluster)
    {
        if (!Ids.IsValid(id, Ids.WebhookEndpointPrefix)) return Problems.NotFound("webhook endpoint", id);
        var (body, problem) = await JsonBody.ReadObjectAsync(http.Request, http.RequestAborted);
        if (problem is not null) return problem;
        using var document = body!.Document;
        var root = document.RootElement;
        var errors = new List<FieldError>();
        bool? enabled = null;
        var setTypes = false;
        IReadOnlyList<string>? eventTypes = null;
        if (root.TryGetProperty("enabled", out var enabledElement))
        {
            if (enabledElement.ValueKind is JsonValueKind.True or JsonValueKind.False) enabled = enabledElement.GetBoolean();
            else errors.Add(new FieldError("enabled", "must be true or false."));
        }
        if (root.TryGetProperty("event_types", out var typesElement))
        {
            setTypes = true;
            eventTypes = EventTypes(typesElement, errors);
        }
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name is not ("enabled" or "event_types"))
                errors.Add(new FieldError(property.Name, "cannot be changed; the fields are enabled and event_types (create a new endpoint for another URL)."));
        }
        if (errors.Count == 0 && enabled is null && !setTypes) errors.Add(new FieldError("body", "names no field to change: enabled or event_types."));
        if (errors.Count > 0) return Problems.Validation(errors);
        return await cluster.GetGrain<IWebhookEndpointsGrain>(http.TenantId()).Update(id, new WebhookEndpointChange(enabled, setTypes, eventTypes)) is { } view
            ? TypedResults.Ok(WebhookEndpointJson.From(view))
            : Problems.NotFound("webhook endpoint", id);
    }

    private static async Task<IResult> RotateSecret(string id, HttpContext http, IClusterClient cluster, TimeProvider time)
    {
        if (!Ids.IsValid(id, Ids.WebhookEndpointPrefix)) return Problems.NotFound("webhook endpoint", id);
        var tenantId = http.TenantId();
        TimeSpan? overlap = null;
        byte[] raw = [];
        // The body is optional: without one, the configured overlap applies.
        if (http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            var (body, problem) = await JsonBody.ReadObjectAsync(http.Request, http.RequestAborted);
            if (problem is not null) return problem;
            using var document = body!.Document;
            raw = body.Raw;
            var errors = new List<FieldError>();
            var max = (long)IWebhookEndpointsGrain.MaxSecretOverlap.TotalSeconds;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name != "overlap_seconds")
                {
                    errors.Add(new FieldError(property.Name, "is not a field of a secret rotation; the field is overlap_seconds."));
                }
                else if (property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetInt64(out var seconds) && seconds >= 0 && seconds <= max)
                {
                    overlap = TimeSpan.FromSeconds(seconds);
                }
                else
                {
                    errors.Add(new FieldError("overlap_seconds", $"must be a whole number of seconds from 0 to {max.ToString(CultureInfo.InvariantCulture)}."));
                }
            }
            if (errors.Count > 0) return Problems.Validation(errors);
        }
        if (await cluster.GetGrain<IWebhookEndpointsGrain>(tenantId).Get(id) is null) return Problems.NotFound("webhook endpoint", id);

        // Idempotent like every POST: a retried rotation answers the same new secret, not a third one.
        return await IdempotentPost.RunAsync(http, cluster, time, tenantId, raw, async () =>
        {
            if (await cluster.GetGrain<IWebhookEndpointsGrain>(tenantId).RotateSecret(id, overlap) is not { } rotation)
                return new PostOutcome.Refused(Problems.NotFound("webhook endpoint", id));
            var e = rotation.Endpoint;
            return new PostOutcome.Done(StatusCodes.Status200OK, new RotatedWebhookSecretJson(
                e.Id, e.Url, rotation.Secret, ApiJson.Utc(e.SecretRotatedAt ?? e.CreatedAt), ApiJson.Utc(e.PreviousSecretExpiresAt), e.EventTypes, e.Enabled), null);
        });
    }

    private static async Task<IResult> Replay(string id, HttpContext http, IClusterClient cluster, TimeProvider time)
    {
        if (!Ids.IsValid(id, Ids.WebhookEndpointPrefix)) return Problems.NotFound("webhook endpoint", id);
        var tenantId = http.TenantId();
        var (body, problem) = await JsonBody.ReadObjectAsync(http.Request, http.RequestAborted);
        if (problem is not null) return problem;
        using var document = body!.Document;
        var errors = new List<FieldError>();
        DateTimeOffset? since = null;
        if (!document.RootElement.TryGetProperty("since", out var sinceElement))
        {
            errors.Add(new FieldError("since", "is required: an RFC 3339 timestamp; events created at or after it are sent again."));
        }
        else if (sinceElement.ValueKind == JsonValueKind.String && RecordsApi.TryParseTimestamp(sinceElement.GetString()!, out var parsed))
        {
            since = parsed;
        }
        else
        {
            errors.Add(new FieldError("since", "must be an RFC 3339 timestamp such as 2025-01-31T00:00:00Z."));
        }
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Name != "since") errors.Add(new FieldError(property.Name, "is not a field of a replay; the field is since."));
        }
        if (errors.Count > 0) return Problems.Validation(errors);
        if (await cluster.GetGrain<IWebhookEndpointsGrain>(tenantId).Get(id) is null) return Problems.NotFound("webhook endpoint", id);

        return await IdempotentPost.RunAsync(http, cluster, time, tenantId, body.Raw, async () =>
        {
            if (await cluster.GetGrain<IWebhookEndpointsGrain>(tenantId).Replay(id, since!.Value) is not { } replay)
                return new PostOutcome.Refused(Problems.NotFound("webhook endpoint", id));
            return new PostOutcome.Done(StatusCodes.Status202Accepted, new WebhookReplayJson(replay.EndpointId, ApiJson.Utc(replay.Since), replay.Events), null);
        });
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

    /// <summary>The request bodies as documented in OpenAPI.</summary>
    public sealed record CreateWebhookEndpointDoc(string Url, IReadOnlyList<string>? EventTypes);

    public sealed record UpdateWebhookEndpointDoc(bool? Enabled, IReadOnlyList<string>? EventTypes);

    public sealed record RotateWebhookSecretDoc(int? OverlapSeconds);

    public sealed record ReplayWebhookEventsDoc(DateTime Since);
}

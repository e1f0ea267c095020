using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace PatientConnect.Api.Hosting;

/// <summary>Response examples in the OpenAPI document, for routes whose body the handler writes itself.</summary>
public static class OpenApiExamples
{
    public static RouteHandlerBuilder WithResponseExample(this RouteHandlerBuilder builder, int status, string contentType, string exampleJson)
    {
        var example = JsonNode.Parse(exampleJson);
        return builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            // A route declared with Produces(status, contentType) and no body type has no content entry yet.
            if (operation.Responses?.TryGetValue(status.ToString(System.Globalization.CultureInfo.InvariantCulture), out var found) == true
                && found is OpenApiResponse response)
            {
                response.Content ??= new Dictionary<string, OpenApiMediaType>();
                if (!response.Content.TryGetValue(contentType, out var media)) response.Content[contentType] = media = new OpenApiMediaType();
                media.Example = example?.DeepClone();
            }
            return Task.CompletedTask;
        });
    }

    /// <summary>An example request body (application/json) for a route that reads its body itself.</summary>
    public static RouteHandlerBuilder WithRequestExample(this RouteHandlerBuilder builder, string exampleJson)
    {
        var example = JsonNode.Parse(exampleJson);
        return builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.RequestBody is OpenApiRequestBody body)
            {
                body.Content ??= new Dictionary<string, OpenApiMediaType>();
                if (!body.Content.TryGetValue("application/json", out var media)) body.Content["application/json"] = media = new OpenApiMediaType();
                media.Example = example?.DeepClone();
            }
            return Task.CompletedTask;
        });
    }
}

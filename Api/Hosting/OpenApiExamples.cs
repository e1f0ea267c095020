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
}

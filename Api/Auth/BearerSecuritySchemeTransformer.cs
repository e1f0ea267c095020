using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PatientConnect.Api.Auth;

/// <summary>Declares the API-key bearer scheme in the OpenAPI document and marks every /v1 operation with it.</summary>
public sealed class BearerSecuritySchemeTransformer : IOpenApiDocumentTransformer
{
    private const string SchemeName = "ApiKey";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "PatientConnect API";
        document.Info.Description = "Patient-authorized connections to hospitals and insurers. Every /v1 call carries Authorization: Bearer <api key>.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The tenant's API key.",
        };

        foreach (var (path, item) in document.Paths)
        {
            if (!path.StartsWith("/v1/", StringComparison.Ordinal) || item.Operations is null) continue;
            foreach (var operation in item.Operations.Values)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(SchemeName, document)] = [],
                });
            }
        }
        return Task.CompletedTask;
    }
}

using SandboxEhr.Hospitals;

namespace SandboxEhr.Auth;

/// <summary>The authorization server of each hospital and its discovery documents.</summary>
public static class AuthApi
{
    public static IServiceCollection AddSandboxAuth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(ClientRegistry.FromConfiguration(configuration));
        services.AddSingleton<AuthStore>();
        services.AddSingleton<SigningKeys>();
        services.AddSingleton<ClientAuthenticator>();
        services.AddSingleton<TokenEndpoint>();
        services.AddSingleton<ITokenValidator, TokenValidator>();
        return services;
    }

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/hospitals/{hospitalId}/fhir/.well-known/smart-configuration", SmartConfiguration);
        app.MapGet("/hospitals/{hospitalId}/fhir/.well-known/openid-configuration", OpenIdConfiguration);

        var auth = app.MapGroup("/hospitals/{hospitalId}/auth");
        auth.MapMethods("/authorize", [HttpMethods.Get, HttpMethods.Post], AuthorizeEndpoint.Handle).DisableAntiforgery();
        auth.MapPost("/token", (string hospitalId, HttpContext context, TokenEndpoint endpoint) => endpoint.Token(hospitalId, context));
        auth.MapPost("/revoke", (string hospitalId, HttpContext context, TokenEndpoint endpoint) => endpoint.Revoke(hospitalId, context));
        auth.MapPost("/introspect", (string hospitalId, HttpContext context, TokenEndpoint endpoint) => endpoint.Introspect(hospitalId, context));
        auth.MapGet("/jwks", (string hospitalId, HospitalRegistry hospitals, SigningKeys keys) =>
            hospitals.Find(hospitalId) is null ? Results.NotFound() : Results.Json(keys.PublicJwks(hospitalId)));
        return app;
    }

    private static IResult SmartConfiguration(string hospitalId, HttpRequest request, HospitalRegistry hospitals)
    {
        if (hospitals.Find(hospitalId) is not { } hospital)
            return Results.NotFound();
        var document = Endpoints(hospital, request);
        var authBase = hospital.AuthBase(request);
        foreach (var (key, value) in new Dictionary<string, object>
        {
            ["revocation_endpoint"] = $"{authBase}/revoke",
            ["introspection_endpoint"] = $"{authBase}/introspect",
            ["grant_types_supported"] = new[] { "authorization_code", "refresh_token" },
            ["token_endpoint_auth_methods_supported"] = new[] { "none", "client_secret_basic", "private_key_jwt" },
            ["token_endpoint_auth_signing_alg_values_supported"] = new[] { "RS384", "ES384" },
            ["scopes_supported"] = ScopePolicy.Supported(hospital),
            ["response_types_supported"] = new[] { "code" },
            ["code_challenge_methods_supported"] = new[] { "S256" },
            ["capabilities"] = new[]
            {
                "launch-standalone", "authorize-post", "client-public", "client-confidential-symmetric",
                "client-confidential-asymmetric", "context-standalone-patient", "permission-offline",
                "permission-patient", hospital.UsesV2Scopes ? "permission-v2" : "permission-v1", "sso-openid-connect",
            },
        })
        {
            document[key] = value;
        }
        return Results.Json(document);
    }

    private static IResult OpenIdConfiguration(string hospitalId, HttpRequest request, HospitalRegistry hospitals)
    {
        if (hospitals.Find(hospitalId) is not { } hospital)
            return Results.NotFound();
        var document = Endpoints(hospital, request);
        foreach (var (key, value) in new Dictionary<string, object>
        {
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            ["scopes_supported"] = new[] { "openid", "fhirUser" },
            ["claims_supported"] = new[] { "iss", "sub", "aud", "exp", "iat", "fhirUser", "nonce" },
        })
        {
            document[key] = value;
        }
        return Results.Json(document);
    }

    // What both discovery documents (SMART and OpenID) say alike: the issuer and where the endpoints are.
    private static Dictionary<string, object> Endpoints(Hospital hospital, HttpRequest request)
    {
        var authBase = hospital.AuthBase(request);
        return new Dictionary<string, object>
        {
            ["issuer"] = hospital.FhirBase(request),
            ["jwks_uri"] = $"{authBase}/jwks",
            ["authorization_endpoint"] = $"{authBase}/authorize",
            ["token_endpoint"] = $"{authBase}/token",
        };
    }
}

namespace PatientConnect.Api.Auth;

public static class AuthSetup
{
    public const string ApiKeyScheme = "ApiKey";
    public const string AdminScheme = "AdminBasic";
    public const string ApiKeyPolicy = "api-key";
    public const string AdminPolicy = "admin";

    /// <summary>
    /// No default scheme on purpose: routes opt in through their policy, so the hosted page, the
    /// OAuth callback and health checks never trigger an API-key look-up.
    /// </summary>
    public static IServiceCollection AddApiAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication()
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyScheme, null)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, AdminBasicAuthenticationHandler>(AdminScheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyPolicy, p => p.AddAuthenticationSchemes(ApiKeyScheme).RequireAuthenticatedUser().RequireClaim(TenantClaims.TenantIdClaim))
            .AddPolicy(AdminPolicy, p => p.AddAuthenticationSchemes(AdminScheme).RequireAuthenticatedUser().RequireClaim(TenantClaims.AdminClaim));
        return services;
    }
}

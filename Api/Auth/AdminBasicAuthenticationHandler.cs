using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Hosting;

namespace PatientConnect.Api.Auth;

/// <summary>
/// Basic credential for operator pages (the Orleans dashboard) from PatientConnect:Admin. With no
/// credential configured nothing can authenticate: the dashboard is off, not open.
/// </summary>
public sealed class AdminBasicAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptionsMonitor<ApiOptions> apiOptions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var admin = apiOptions.CurrentValue.Admin;
        if (!admin.IsConfigured) return Task.FromResult(AuthenticateResult.Fail("No admin credential is configured."));

        string? header = Request.Headers.Authorization;
        const string basic = "Basic ";
        if (string.IsNullOrEmpty(header) || !header.StartsWith(basic, StringComparison.OrdinalIgnoreCase))
            return Task.FromResult(AuthenticateResult.NoResult());

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[basic.Length..].Trim()));
        }
        catch (FormatException)
        {
            return Task.FromResult(AuthenticateResult.Fail("Malformed Basic credential."));
        }

        var colon = decoded.IndexOf(':');
        if (colon < 0) return Task.FromResult(AuthenticateResult.Fail("Malformed Basic credential."));

        // Both halves are always compared, in constant time over fixed-length digests.
        var userOk = SameSecret(decoded[..colon], admin.Username!);
        var passwordOk = SameSecret(decoded[(colon + 1)..], admin.Password!);
        if (!(userOk & passwordOk)) return Task.FromResult(AuthenticateResult.Fail("Wrong admin credential."));

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, admin.Username!), new Claim(TenantClaims.AdminClaim, "true")], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (!apiOptions.CurrentValue.Admin.IsConfigured)
        {
            await TypedResults.Problem(Problems.Create(StatusCodes.Status403Forbidden, "dashboard-disabled", "dashboard_disabled",
                "The dashboard is disabled.", "Set PatientConnect:Admin:Username and PatientConnect:Admin:Password to enable it."))
                .ExecuteAsync(Context);
            return;
        }
        Response.Headers.WWWAuthenticate = "Basic realm=\"PatientConnect admin\", charset=\"UTF-8\"";
        await TypedResults.Problem(Problems.Create(StatusCodes.Status401Unauthorized, "unauthorized", "unauthorized",
            "Authentication required.", "The dashboard needs the admin credential.")).ExecuteAsync(Context);
    }

    private static bool SameSecret(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(given)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}

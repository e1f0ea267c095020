namespace SandboxEhr.Auth;

/// <summary>An RFC 6749 5.2 error response body.</summary>
public sealed record OAuthError(string Error, string ErrorDescription, int Status = StatusCodes.Status400BadRequest)
{
    public static OAuthError InvalidRequest(string description) => new("invalid_request", description);
    public static OAuthError InvalidGrant(string description) => new("invalid_grant", description);
    public static OAuthError InvalidScope(string description) => new("invalid_scope", description);
    public static OAuthError InvalidClient(string description) => new("invalid_client", description, StatusCodes.Status401Unauthorized);

    public IResult ToResult(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
        // RFC 6749 5.2: a 401 invalid_client carries the challenge of the scheme the client could use.
        if (Status == StatusCodes.Status401Unauthorized)
            response.Headers.WWWAuthenticate = "Basic realm=\"sandbox\"";
        return Results.Json(new { error = Error, error_description = ErrorDescription }, statusCode: Status);
    }
}

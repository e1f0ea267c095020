namespace PatientConnect.Api.Auth;

public static class TenantLogScope
{
    /// <summary>
    /// After authorization: every log line of a tenant's request carries its tenant id in scope (the
    /// tenant, never the key), so an operator can follow one tenant's requests in JSON logs.
    /// </summary>
    public static IApplicationBuilder UseTenantLogScope(this IApplicationBuilder app)
    {
        // Created once: ILoggerFactory.CreateLogger takes a lock and a dictionary look-up on every call.
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("PatientConnect.Api.Requests");
        return app.Use(async (context, next) =>
        {
            var tenant = context.User.FindFirst(TenantClaims.TenantIdClaim)?.Value;
            if (tenant is null)
            {
                await next(context);
                return;
            }
            using (logger.BeginScope(new KeyValuePair<string, object>[] { new("tenant_id", tenant) }))
            {
                await next(context);
            }
        });
    }
}

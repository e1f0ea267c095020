using System.Diagnostics;

namespace PatientConnect.Api.Errors;

public static class ProblemDetailsSetup
{
    public static IServiceCollection AddApiProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            var problem = ctx.ProblemDetails;
            var status = problem.Status ?? ctx.HttpContext.Response.StatusCode;
            // Anything not built through Problems (framework answers) still gets a stable type and code.
            if (problem.Type is null || !problem.Type.StartsWith(Problems.TypeBase, StringComparison.Ordinal))
            {
                var (slug, code, title) = StatusCodeProblems.Describe(status);
                problem.Type = Problems.TypeBase + slug;
                problem.Title ??= title;
                problem.Extensions.TryAdd("code", code);
            }
            problem.Instance ??= ctx.HttpContext.Request.Path;
            problem.Extensions.TryAdd("trace_id", Activity.Current?.Id ?? ctx.HttpContext.TraceIdentifier);
        });
        services.AddExceptionHandler<ApiExceptionHandler>();
        return services;
    }
}

using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Hosting;
using PatientConnect.Api.Idempotency;
using PatientConnect.Contract;
using PatientConnect.Sessions;

namespace PatientConnect.Api.Sessions;

public static class SessionsApi
{
    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/patient-sessions").WithTags("Patient sessions");

        group.MapPost("/", Create)
            .WithName("CreatePatientSession")
            .WithSummary("Opens a patient session: a link the patient follows to connect a hospital or insurer.")
            .Accepts<CreateSessionRequestDoc>("application/json")
            .Produces<SessionJson>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        group.MapGet("/{id}", Get)
            .WithName("GetPatientSession")
            .WithSummary("One patient session.");

        return endpoints;
    }

    private static async Task<IResult> Create(
        HttpContext http, IClusterClient cluster, IOptionsMonitor<ApiOptions> options, TimeProvider time)
    {
        var tenantId = http.TenantId();
        var (body, problem) = await JsonBody.ReadObjectAsync(http.Request, http.RequestAborted);
        if (problem is not null) return problem;

        using var document = body!.Document;
        // The monitor's cached value: a snapshot would bind the configuration again on every request.
        var (request, errors) = CreateSessionBody.Parse(document.RootElement, options.CurrentValue.AllowLoopbackHttp);
        if (request is null) return Problems.Validation(errors);

        // Chosen here, once per request: a call retried after a silo loss creates this session or finds it.
        var sessionId = Ids.NewSessionId();
        return await IdempotentPost.RunAsync(http, cluster, time, tenantId, body.Raw, async () =>
        {
            // One stored row and no grain activation: the opener (a stateless worker) checks and inserts it.
            var result = await cluster.GetGrain<ISessionOpenerGrain>(0)
                .Open(new CreateSession(
                    tenantId,
                    request.PatientId,
                    request.ReturnUrl,
                    request.SourceId,
                    request.RecommendedSourceIds,
                    TimeSpan.FromSeconds(request.ExpiresIn),
                    request.MetadataJson,
                    sessionId,
                    Hints: request.Hints));

            if (result.Session is null)
            {
                return new PostOutcome.Refused(Problems.Validation(
                    result.InvalidField ?? "body", result.Error ?? "was refused."));
            }
            return new PostOutcome.Done(StatusCodes.Status201Created, SessionJson.From(result.Session),
                $"/v1/patient-sessions/{result.Session.Id}");
        });
    }

    private static async Task<Results<Ok<SessionJson>, ProblemHttpResult>> Get(string id, HttpContext http, IClusterClient cluster)
    {
        // A malformed id cannot exist: answer without activating a grain for it.
        if (!Ids.IsValid(id, Ids.SessionPrefix)) return Problems.NotFound("patient session", id);
        var view = await cluster.GetGrain<IPatientSessionGrain>(id).Get(http.TenantId());
        return view is null ? Problems.NotFound("patient session", id) : TypedResults.Ok(SessionJson.From(view));
    }

    /// <summary>The request body as documented in OpenAPI; the handler reads the JSON itself.</summary>
    public sealed record CreateSessionRequestDoc(
        string PatientId,
        string ReturnUrl,
        string? SourceId,
        IReadOnlyList<string>? RecommendedSourceIds,
        int? ExpiresIn,
        System.Text.Json.JsonElement? Metadata,
        string? PatientZip,
        string? PatientState,
        string? Locale);
}

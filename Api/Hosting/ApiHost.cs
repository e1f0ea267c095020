using Npgsql;
using Orleans.Dashboard;
using PatientConnect.Api.Admin;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Connect;
using PatientConnect.Api.Connections;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Events;
using PatientConnect.Api.Fhir;
using PatientConnect.Api.Health;
using PatientConnect.Api.Patients;
using PatientConnect.Api.Records;
using PatientConnect.Api.Sessions;
using PatientConnect.Api.Sources;
using PatientConnect.Api.Webhooks;
using PatientConnect.Api.Erasure;
using PatientConnect.ServiceDefaults;
using Scalar.AspNetCore;

namespace PatientConnect.Api.Hosting;

/// <summary>
/// The Api as parts a host puts together: its services and its pipeline with every route. The Api
/// process adds a cluster client to them (Program.cs); a silo started with the Api inside it
/// (PatientConnect:Api:InSilo) adds them to its own host, where grain calls reach local activations
/// without the gateway hop.
/// </summary>
public static class ApiHost
{
    /// <summary>
    /// Everything the routes need except the way to the cluster (an <see cref="IClusterClient"/>):
    /// options, the database, authentication, rate limits, problem details, JSON, OpenAPI.
    /// </summary>
    public static WebApplicationBuilder AddPatientConnectApi(this WebApplicationBuilder builder, ClusterSettings cluster,
        ClusterConnectionState clusterConnection)
    {
        var config = builder.Configuration;
        var postgres = cluster.Postgres;
        builder.Services.AddOptions<ApiOptions>().Bind(config.GetSection(ApiOptions.Section)).ValidateOnStart()
            .Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<ApiOptions>, ApiOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(postgres));
        builder.Services.AddSingleton(clusterConnection);
        builder.Services.AddMemoryCache();
        // Kestrel's own refusals (malformed request line or headers) get a problem+json body too.
        builder.WebHost.ConfigureKestrel(o => o.ConfigureEndpointDefaults(KestrelRefusals.Use));

        builder.Services.ConfigureHttpJsonOptions(o => PatientConnect.Contract.ContractJson.Configure(o.SerializerOptions));
        builder.Services.AddApiProblemDetails();
        builder.Services.AddApiAuthentication();
        builder.Services.AddApiRateLimits(config);
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer<BearerSecuritySchemeTransformer>());
        return builder;
    }

    /// <summary>The pipeline and every route of the Api, health and metrics included.</summary>
    public static WebApplication UsePatientConnectApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(StatusCodeProblems.WriteAsync);
        // Before authentication: a flood is refused before a key look-up is spent on it.
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseTenantLogScope();

        app.MapOpenApi();
        app.MapScalarApiReference(o => o.WithTitle("PatientConnect API"));
        app.MapOrleansDashboard("/dashboard").RequireAuthorization(AuthSetup.AdminPolicy).ExcludeFromDescription();

        app.MapHealthApi();
        app.MapApiKeysApi();
        app.MapMetricsEndpoint();
        app.MapConnectApi();

        var v1 = app.MapGroup("/v1").RequireAuthorization(AuthSetup.ApiKeyPolicy);
        // Only on the routes of one patient: a filter on every /v1 route would make each of them (the hot
        // GETs of a session or a connection too) run the filter pipeline for nothing.
        ((IEndpointConventionBuilder)v1).Add(endpoint =>
        {
            if (endpoint is RouteEndpointBuilder route && route.RoutePattern.GetParameter("patient_id") is not null)
            {
                endpoint.FilterFactories.Add((context, next) =>
                {
                    var filter = ActivatorUtilities.CreateInstance<PatientExistsFilter>(context.ApplicationServices);
                    return invocation => filter.InvokeAsync(invocation, next);
                });
            }
        });
        v1.MapSessionsApi();
        v1.MapPatientsApi();
        v1.MapConnectionsApi();
        v1.MapSourcesApi();
        v1.MapRecordsApi();
        v1.MapFhirApi();
        v1.MapEventsApi();
        v1.MapWebhooksApi();
        v1.MapErasureApi();
        return app;
    }
}

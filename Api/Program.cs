using Npgsql;
using Orleans.Configuration;
using Orleans.Dashboard;
using PatientConnect.Api.Admin;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Connect;
using PatientConnect.Api.Connections;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Events;
using PatientConnect.Api.Fhir;
using PatientConnect.Api.Health;
using PatientConnect.Api.Hosting;
using PatientConnect.Api.Patients;
using PatientConnect.Api.Records;
using PatientConnect.Api.Sessions;
using PatientConnect.Api.Sources;
using PatientConnect.Api.Webhooks;
using PatientConnect.Api.Erasure;
using PatientConnect.ServiceDefaults;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);
var config = builder.Configuration;
// First: the shared settings file may hold the connection string the service defaults' health check uses.
// A missing or bad cluster setting stops the Api here, not on the first request.
var cluster = ClusterSettings.Load(builder);
var postgres = cluster.Postgres;
builder.AddServiceDefaults("patientconnect-api");

builder.Services.AddOptions<ApiOptions>().Bind(config.GetSection(ApiOptions.Section)).ValidateOnStart()
    .Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<ApiOptions>, ApiOptionsValidator>();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(postgres));
var clusterConnection = new ClusterConnectionState();
builder.Services.AddSingleton(clusterConnection);
builder.Services.AddMemoryCache();
// The cluster-wide gauges (connections by status, webhook backlog) on the Api's /metrics as well.
builder.Services.AddHostedService<PatientConnect.Telemetry.ClusterGaugesReporter>();
// Kestrel must not wait for the cluster: the Api may start before any silo (its connection attempts
// are retried), and /health/live and /health/ready have to answer meanwhile.
builder.Services.Configure<HostOptions>(o => o.ServicesStartConcurrently = true);
// Kestrel's own refusals (malformed request line or headers) get a problem+json body too.
builder.WebHost.ConfigureKestrel(o => o.ConfigureEndpointDefaults(KestrelRefusals.Use));

builder.UseOrleansClient(client =>
{
    client.UseAdoNetClustering(o =>
    {
        o.Invariant = "Npgsql";
        o.ConnectionString = postgres;
    });
    client.Configure<ClusterOptions>(o =>
    {
        o.ClusterId = cluster.ClusterId;
        o.ServiceId = cluster.ServiceId;
    });
    client.AddClusterConnectionStatusObserver(clusterConnection);
    // Calls marked [Retryable] survive a silo dying or leaving; the rest fail fast (see the filter).
    client.AddOutgoingGrainCallFilter<PatientConnect.Resilience.ClusterCallRetryFilter>();
    // A call whose silo died without answering waits this long before it is retried or answered 503;
    // interface methods marked [ResponseTimeout] are tighter.
    client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
    client.UseConnectionRetryFilter<ClusterConnectRetryFilter>();
    client.AddDashboard();
    client.AddActivityPropagation();
});

builder.Services.ConfigureHttpJsonOptions(o => PatientConnect.Contract.ContractJson.Configure(o.SerializerOptions));
builder.Services.AddApiProblemDetails();
builder.Services.AddApiAuthentication();
builder.Services.AddApiRateLimits(config);
builder.Services.AddOpenApi(o => o.AddDocumentTransformer<BearerSecuritySchemeTransformer>());

var app = builder.Build();

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
v1.AddEndpointFilter<PatientExistsFilter>();
v1.MapSessionsApi();
v1.MapPatientsApi();
v1.MapConnectionsApi();
v1.MapSourcesApi();
v1.MapRecordsApi();
v1.MapFhirApi();
v1.MapEventsApi();
v1.MapWebhooksApi();
v1.MapErasureApi();

app.Run();

public partial class Program;

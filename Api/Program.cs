using Orleans.Configuration;
using Orleans.Dashboard;
using PatientConnect.Api.Health;
using PatientConnect.Api.Hosting;
using PatientConnect.ServiceDefaults;

// The Api as a process of its own, reaching the silos through their gateways. A silo can host the
// same Api itself instead (PatientConnect:Api:InSilo, see Silo/Program.cs and README "Performance").
var builder = WebApplication.CreateBuilder(args);
var config = builder.Configuration;
// First: the shared settings file may hold the connection string the service defaults' health check uses.
// A missing or bad cluster setting stops the Api here, not on the first request.
var cluster = ClusterSettings.Load(builder);
var postgres = cluster.Postgres;
builder.AddServiceDefaults("patientconnect-api");

var clusterConnection = new ClusterConnectionState();
builder.AddPatientConnectApi(cluster, clusterConnection);
// The cluster-wide gauges (connections by status, webhook backlog) on the Api's /metrics as well (a
// silo hosting the Api has them already).
builder.Services.AddHostedService<PatientConnect.Telemetry.ClusterGaugesReporter>();
// Kestrel must not wait for the cluster: the Api may start before any silo (its connection attempts
// are retried), and /health/live and /health/ready have to answer meanwhile.
builder.Services.Configure<HostOptions>(o => o.ServicesStartConcurrently = true);

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

var app = builder.Build();
app.UsePatientConnectApi();
app.Run();

public partial class Program;

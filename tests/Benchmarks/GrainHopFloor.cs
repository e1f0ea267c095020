using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PatientConnect.Connections;
using PatientConnect.Sessions;

namespace PatientConnect.Benchmarks;

/// <summary>
/// The floor of the default topology's read: a process of its own with bare Kestrel and a cluster client
/// that makes the one grain call the Api makes for a GET (IPatientSessionGrain.Get or IConnectionGrain.Get
/// on the real silos) and answers constant bytes of the same JSON. Between bare Kestrel and the Api it
/// separates what the topology costs (one more process, the client → gateway → grain hop) from what the
/// Api does per request besides (authentication, routing, filters, serialisation, telemetry).
/// Started by the sessions benchmark as `Benchmarks grain-hop-floor URL CLUSTER TENANT`, with the stack's
/// connection string (not on a command line every user can list) and the two answers in its environment.
/// </summary>
public static class GrainHopFloor
{
    public const string Command = "grain-hop-floor";
    private const string ConnectionStringVariable = "PC_HOP_FLOOR_POSTGRES";
    private const string SessionJsonVariable = "PC_HOP_FLOOR_SESSION_JSON";
    private const string ConnectionJsonVariable = "PC_HOP_FLOOR_CONNECTION_JSON";

    public static async Task<int> RunProcessAsync(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        var sessionJson = Environment.GetEnvironmentVariable(SessionJsonVariable);
        var connectionJson = Environment.GetEnvironmentVariable(ConnectionJsonVariable);
        if (args.Length != 3 || string.IsNullOrEmpty(connectionString) || string.IsNullOrEmpty(sessionJson) || string.IsNullOrEmpty(connectionJson))
        {
            Console.Error.WriteLine($"usage: {ConnectionStringVariable}=... {SessionJsonVariable}=... {ConnectionJsonVariable}=... Benchmarks {Command} URL CLUSTER TENANT");
            return 2;
        }
        var (url, cluster, tenant) = (args[0], args[1], args[2]);
        var sessionBody = Encoding.UTF8.GetBytes(sessionJson);
        var connectionBody = Encoding.UTF8.GetBytes(connectionJson);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        builder.UseOrleansClient(client => client.UseBenchCluster(connectionString, cluster));
        var app = builder.Build();
        var grains = app.Services.GetRequiredService<IClusterClient>();
        // The same Bearer check shape as BareKestrel; then the grain call, whose answer must exist.
        app.MapGet("/session/{id}", async (string id, HttpContext context) =>
        {
            if (!Authorized(context)) return;
            var view = await grains.GetGrain<IPatientSessionGrain>(id).Get(tenant);
            await AnswerAsync(context, view is null ? null : sessionBody);
        });
        app.MapGet("/connection/{id}", async (string id, HttpContext context) =>
        {
            if (!Authorized(context)) return;
            var view = await grains.GetGrain<IConnectionGrain>(id).Get(tenant);
            await AnswerAsync(context, view is null ? null : connectionBody);
        });
        app.MapGet("/ready", () => "ok");
        await app.RunAsync();
        return 0;
    }

    private static bool Authorized(HttpContext context)
    {
        if (context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal)) return true;
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        return false;
    }

    private static async Task AnswerAsync(HttpContext context, byte[]? body)
    {
        if (body is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.Body.WriteAsync(body);
    }

    /// <summary>Starts the floor process against a running stack and waits until it answers.</summary>
    public static async Task StartAsync(SessionsBenchStack stack, Uri url, string sessionJson, string connectionJson, List<Process> processes)
    {
        var env = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            [ConnectionStringVariable] = stack.ConnectionString,
            [SessionJsonVariable] = sessionJson,
            [ConnectionJsonVariable] = connectionJson,
            // As the Api process runs (its project file): idle thread-pool workers do not spin.
            ["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0",
        };
        var process = BenchProcesses.Start(typeof(GrainHopFloor).Assembly.Location,
            [Command, url.ToString().TrimEnd('/'), stack.ClusterId, SessionsBenchStack.Tenant],
            env, line => Console.Error.WriteLine($"  [hop floor] {line.Trim()}"));
        processes.Add(process);
        await BenchProcesses.WaitAsync(new Uri(url, "ready"), TimeSpan.FromSeconds(120), processes);
    }
}

using System.Diagnostics;
using System.Security.Cryptography;
using Npgsql;

namespace PatientConnect.Benchmarks;

/// <summary>
/// The service for the sessions benchmark, from the built dlls, on free loopback ports and a fresh
/// database (so "1,000 stored sessions" means that): sandbox, schema, N silos (each with its own HTTP
/// port for /metrics) and the Api. Other stacks on the machine (./run.sh, tests, other benchmarks) are
/// never in the way. Stopped and dropped on dispose.
/// </summary>
public sealed class SessionsBenchStack : IAsyncDisposable
{
    public const string Tenant = "bench";

    private readonly List<Process> _processes = [];
    private readonly string _adminConnectionString;
    private readonly string _database;

    public string ConnectionString { get; }
    /// <summary>The Orleans cluster and service id (the database's name).</summary>
    public string ClusterId => _database;
    public string ApiKey { get; } = "pc_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    public Uri Api { get; } = new($"http://127.0.0.1:{FreePorts.Next()}/");
    public Uri Sandbox { get; } = new($"http://127.0.0.1:{FreePorts.Next()}/");
    public IReadOnlyList<Uri> SiloHttp { get; }
    /// <summary>Process ids by role (api, silo0.., sandbox), for CPU accounting.</summary>
    public Dictionary<string, int> ProcessIds { get; } = [];

    private SessionsBenchStack(string admin, string database, int silos)
    {
        _adminConnectionString = admin;
        _database = database;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database, MaxPoolSize = 100 }.ConnectionString;
        SiloHttp = Enumerable.Range(0, silos).Select(_ => new Uri($"http://127.0.0.1:{FreePorts.Next()}/")).ToArray();
    }

    /// <summary>The Api runs inside every silo (PatientConnect:Api:InSilo) instead of as a process of its own.</summary>
    public bool ApiInSilo { get; private init; }

    /// <summary>Where requests go: the Api process, or (Api in the silos) every silo's HTTP port.</summary>
    public IReadOnlyList<Uri> ApiEndpoints => ApiInSilo ? SiloHttp : [Api];

    public static async Task<SessionsBenchStack> StartAsync(string adminConnectionString, string configuration, int silos, bool apiInSilo = false)
    {
        var database = await BenchProcesses.CreateDatabaseAsync(adminConnectionString, "pc_bench_");
        var stack = new SessionsBenchStack(adminConnectionString, database, silos) { ApiInSilo = apiInSilo };
        try
        {
            await stack.StartProcessesAsync(configuration);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    public string FhirBase(string hospital) => new Uri(Sandbox, $"hospitals/{hospital}/fhir").ToString();

    private async Task StartProcessesAsync(string configuration)
    {
        var sandboxDll = BenchProcesses.Dll("SandboxEhr", "SandboxEhr.dll", configuration);
        var siloDll = BenchProcesses.Dll("Silo", "PatientConnect.Silo.dll", configuration);
        var apiDll = BenchProcesses.Dll("Api", "PatientConnect.Api.dll", configuration);
        ProcessIds["sandbox"] = Start(sandboxDll, ["--urls", Sandbox.ToString().TrimEnd('/')], []).Id;

        var silo = Environment();
        if (ApiInSilo) silo["PatientConnect__Api__InSilo"] = "true";
        silo["PatientConnect__TokenEncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        silo["PatientConnect__Tenants__0__Id"] = Tenant;
        silo["PatientConnect__Tenants__0__ApiKeys__0"] = ApiKey;
        silo["Directory__Sources__0__Name"] = "Riverside General Hospital";
        silo["Directory__Sources__0__Vendor"] = "epic";
        silo["Directory__Sources__0__FhirBaseUrl"] = FhirBase("riverside");
        silo["Directory__Sources__0__ClientId"] = "sandbox-public";
        silo["Directory__Sources__0__AuthMethod"] = "none";

        var migrate = Start(siloDll, ["--migrate-only"], silo);
        if (!migrate.WaitForExit(TimeSpan.FromSeconds(120)) || migrate.ExitCode != 0)
        {
            throw new InvalidOperationException("Silo --migrate-only failed.");
        }
        for (var i = 0; i < SiloHttp.Count; i++)
        {
            var env = new Dictionary<string, string>(silo)
            {
                ["Orleans__SiloPort"] = FreePorts.Next().ToString(),
                ["Orleans__GatewayPort"] = FreePorts.Next().ToString(),
            };
            ProcessIds[$"silo{i}"] = Start(siloDll, ["--urls", SiloHttp[i].ToString().TrimEnd('/')], env).Id;
        }
        await BenchProcesses.WaitAsync(new Uri(Sandbox, "hospitals"), TimeSpan.FromSeconds(180), _processes);
        foreach (var siloHttp in SiloHttp) await BenchProcesses.WaitAsync(new Uri(siloHttp, "health/ready"), TimeSpan.FromSeconds(180), _processes);
        if (!ApiInSilo)
        {
            ProcessIds["api"] = Start(apiDll, ["--urls", Api.ToString().TrimEnd('/')], Environment()).Id;
            await BenchProcesses.WaitAsync(new Uri(Api, "health/ready"), TimeSpan.FromSeconds(180), _processes);
        }
    }

    /// <summary>
    /// Starts the default topology's read floor (<see cref="GrainHopFloor"/>) beside the stack, stopped with
    /// it; the answer is where it listens.
    /// </summary>
    public async Task<Uri> StartHopFloorAsync(string sessionJson, string connectionJson)
    {
        var url = new Uri($"http://127.0.0.1:{FreePorts.Next()}/");
        await GrainHopFloor.StartAsync(this, url, sessionJson, connectionJson, _processes);
        return url;
    }

    // The shipped settings (appsettings.json: Information logging, telemetry on), as an operator runs it;
    // only what a loopback stack needs besides.
    private Dictionary<string, string> Environment() =>
        BenchProcesses.ServiceEnvironment(ConnectionString, _database, ApiInSilo ? SiloHttp[0] : Api);

    private Process Start(string dll, string[] args, Dictionary<string, string> env)
    {
        var name = Path.GetFileNameWithoutExtension(dll);
        // Warnings and errors are shown; the rest is drained.
        var process = BenchProcesses.Start(dll, args, env, line =>
        {
            if (BenchProcesses.IsProblem(line)) Console.Error.WriteLine($"  [{name}] {line.Trim()}");
        });
        _processes.Add(process);
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        await BenchProcesses.StopAsync(_processes);
        await BenchProcesses.DropDatabaseAsync(_adminConnectionString, _database);
    }
}

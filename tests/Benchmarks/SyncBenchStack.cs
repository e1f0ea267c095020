using System.Diagnostics;
using System.Security.Cryptography;
using Npgsql;

namespace PatientConnect.Benchmarks;

/// <summary>
/// The whole service for the sync benchmark, started from the built dlls on free loopback ports on
/// a fresh database: sandbox, schema (Silo --migrate-only), one silo, the Api. Stopped and dropped on dispose.
/// </summary>
public sealed class SyncBenchStack : IAsyncDisposable
{
    private readonly List<Process> _processes = [];
    private readonly string _adminConnectionString;
    private readonly string _database;
    private IReadOnlyDictionary<string, string> _extra = new Dictionary<string, string>();

    public string ConnectionString { get; }
    public string ApiKey { get; } = "pc_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    public const string Tenant = "bench";
    public Uri Api { get; }
    public Uri Sandbox { get; }

    private SyncBenchStack(string admin, string database)
    {
        _adminConnectionString = admin;
        _database = database;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database, MaxPoolSize = 64 }.ConnectionString;
        Api = new Uri($"http://127.0.0.1:{FreePorts.Next()}/");
        Sandbox = new Uri($"http://127.0.0.1:{FreePorts.Next()}/");
    }

    /// <param name="extra">Settings given to the silo and the Api on top of the stack's own (e.g. telemetry).</param>
    public static async Task<SyncBenchStack> StartAsync(string adminConnectionString, string configuration,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        var database = await BenchProcesses.CreateDatabaseAsync(adminConnectionString, "pc_bench_");
        var stack = new SyncBenchStack(adminConnectionString, database) { _extra = extra ?? new Dictionary<string, string>() };
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

    private async Task StartProcessesAsync(string configuration)
    {
        var sandboxDll = BenchProcesses.Dll("SandboxEhr", "SandboxEhr.dll", configuration);
        var siloDll = BenchProcesses.Dll("Silo", "PatientConnect.Silo.dll", configuration);
        var apiDll = BenchProcesses.Dll("Api", "PatientConnect.Api.dll", configuration);
        var sandbox = Start(sandboxDll, ["--urls", Sandbox.ToString().TrimEnd('/')], new Dictionary<string, string>());

        var silo = Environment();
        silo["Orleans__SiloPort"] = FreePorts.Next().ToString();
        silo["Orleans__GatewayPort"] = FreePorts.Next().ToString();
        silo["PatientConnect__TokenEncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        silo["PatientConnect__Tenants__0__Id"] = Tenant;
        silo["PatientConnect__Tenants__0__ApiKeys__0"] = ApiKey;
        string[] hospitals = ["riverside", "lakeside", "summit"];
        string[] vendors = ["epic", "cerner", "payer"];
        for (var i = 0; i < hospitals.Length; i++)
        {
            var prefix = $"Directory__Sources__{i}__";
            silo[prefix + "Name"] = hospitals[i];
            silo[prefix + "Vendor"] = vendors[i];
            silo[prefix + "FhirBaseUrl"] = FhirBase(hospitals[i]);
            silo[prefix + "ClientId"] = "sandbox-public";
            silo[prefix + "AuthMethod"] = "none";
        }

        var migrate = Start(siloDll, ["--migrate-only"], silo);
        if (!migrate.WaitForExit(TimeSpan.FromSeconds(60)) || migrate.ExitCode != 0)
        {
            throw new InvalidOperationException("Silo --migrate-only failed.");
        }
        var siloProcess = Start(siloDll, [], silo);
        await BenchProcesses.WaitAsync(new Uri(Sandbox, "hospitals"), TimeSpan.FromSeconds(180), _processes);
        var api = Start(apiDll, ["--urls", Api.ToString().TrimEnd('/')], Environment());
        await BenchProcesses.WaitAsync(new Uri(Api, "health/ready"), TimeSpan.FromSeconds(180), _processes);
        ProcessIds = new Dictionary<string, int> { ["sandbox"] = sandbox.Id, ["silo"] = siloProcess.Id, ["api"] = api.Id };
    }

    /// <summary>The stack's processes by role, for CPU accounting.</summary>
    public IReadOnlyDictionary<string, int> ProcessIds { get; private set; } = new Dictionary<string, int>();

    public string FhirBase(string hospital) => new Uri(Sandbox, $"hospitals/{hospital}/fhir").ToString();

    private Dictionary<string, string> Environment()
    {
        var env = OwnEnvironment();
        foreach (var (key, value) in _extra) env[key] = value;
        return env;
    }

    private Dictionary<string, string> OwnEnvironment()
    {
        var env = BenchProcesses.ServiceEnvironment(ConnectionString, _database, Api);
        env["Logging__LogLevel__Default"] = "Warning";
        // The sync's own summary line (elapsed, storing, waiting for pages) is worth seeing.
        env["Logging__LogLevel__PatientConnect.Grains.Sync"] = "Information";
        return env;
    }

    private Process Start(string dll, string[] args, Dictionary<string, string> env)
    {
        var name = Path.GetFileNameWithoutExtension(dll);
        // The sync's own summary line (elapsed, storing, waiting for pages) and problems are shown; the rest is drained.
        var process = BenchProcesses.Start(dll, args, env, line =>
        {
            if (line.Contains("Sync conn_", StringComparison.Ordinal) && line.Contains(" ms ", StringComparison.Ordinal))
                Console.WriteLine($"  [{name}] {line.Trim()}");
            else if (BenchProcesses.IsProblem(line))
                Console.Error.WriteLine($"  [{name}] {line}");
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

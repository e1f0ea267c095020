using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace PatientConnect.Benchmarks.Chaos;

/// <summary>
/// Sandbox, three silos and the Api from the Release dlls on free 127.0.0.1 ports, on a database of
/// its own in the chaos Postgres. Silos can be killed (SIGKILL), stopped (SIGTERM) and started again
/// on their ports; the bytes each silo writes to its logs are counted.
/// </summary>
public sealed class ChaosStack : IAsyncDisposable
{
    public const string Tenant = "chaos";
    private readonly List<Process> _others = [];
    private readonly Process?[] _silos;
    private readonly long[] _siloLogBytes;
    private readonly int[] _siloPorts;
    private readonly int[] _gatewayPorts;
    private readonly string _admin;
    private readonly string _database;
    private readonly string _tokenKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public string ConnectionString { get; }
    public string ApiKey { get; } = "pc_chaos_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    public Uri Api { get; } = new($"http://127.0.0.1:{FreePorts.Next()}/");
    public Uri Sandbox { get; } = new($"http://127.0.0.1:{FreePorts.Next()}/");
    public int SiloCount => _silos.Length;

    private ChaosStack(string admin, string database, int silos)
    {
        _admin = admin;
        _database = database;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database, MaxPoolSize = 50 }.ConnectionString;
        _silos = new Process?[silos];
        _siloLogBytes = new long[silos];
        _siloPorts = [.. Enumerable.Range(0, silos).Select(_ => FreePorts.Next())];
        _gatewayPorts = [.. Enumerable.Range(0, silos).Select(_ => FreePorts.Next())];
    }

    public static async Task<ChaosStack> StartAsync(string adminConnectionString, int silos)
    {
        var database = await BenchProcesses.CreateDatabaseAsync(adminConnectionString, "pc_chaos_");
        var stack = new ChaosStack(adminConnectionString, database, silos);
        try
        {
            _ = stack.Start("sandbox", "SandboxEhr", "SandboxEhr.dll", ["--urls", stack.Sandbox.ToString().TrimEnd('/')], [], null);
            var migrate = stack.Start("migrate", "Silo", "PatientConnect.Silo.dll", ["--migrate-only"], stack.SiloEnvironment(0), null);
            await migrate.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
            if (migrate.ExitCode != 0) throw new InvalidOperationException("Silo --migrate-only failed.");
            for (var i = 0; i < silos; i++) stack.StartSilo(i);
            await WaitAsync(new Uri(stack.Sandbox, "hospitals"), TimeSpan.FromSeconds(60));
            _ = stack.Start("api", "Api", "PatientConnect.Api.dll", ["--urls", stack.Api.ToString().TrimEnd('/')], stack.CommonEnvironment(), null);
            await stack.WaitForActiveSilosAsync(silos, TimeSpan.FromSeconds(90));
            await WaitAsync(new Uri(stack.Api, "health/ready"), TimeSpan.FromSeconds(90));
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    public string FhirBase(string hospital) => new Uri(Sandbox, $"hospitals/{hospital}/fhir").ToString();

    public void StartSilo(int index)
    {
        if (_silos[index] is { HasExited: false }) throw new InvalidOperationException($"silo {index} is running");
        _silos[index]?.Dispose();
        _silos[index] = Start($"silo{index}", "Silo", "PatientConnect.Silo.dll", [], SiloEnvironment(index), index);
    }

    public void KillSilo(int index) => _silos[index]?.Kill(entireProcessTree: true);

    /// <summary>SIGTERM, as an orchestrator asks a silo to leave; waits for it to exit.</summary>
    public async Task StopSiloAsync(int index, TimeSpan timeout)
    {
        var process = _silos[index] ?? throw new InvalidOperationException($"silo {index} is not running");
        if (kill(process.Id, 15) != 0) throw new InvalidOperationException($"SIGTERM to silo {index} failed");
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    public long SiloLogBytes => Enumerable.Range(0, _siloLogBytes.Length).Sum(i => Interlocked.Read(ref _siloLogBytes[i]));

    /// <summary>Active silos in the membership table.</summary>
    public async Task<int> ActiveSilosAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = @d AND status = 3", connection);
        command.Parameters.AddWithValue("d", _database);
        return Convert.ToInt32(await command.ExecuteScalarAsync());
    }

    public async Task WaitForActiveSilosAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await ActiveSilosAsync() == count) return;
            }
            catch (NpgsqlException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{count} active silos not reached in {timeout}");
    }

    private IHost? _client;

    /// <summary>
    /// Which silo (by index) hosts the activation of the grain whose id contains <paramref name="key"/>,
    /// asked of Orleans' management grain; null when none is active.
    /// </summary>
    public async Task<int?> SiloHostingAsync(string key)
    {
        if (_client is null)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.UseOrleansClient(client => client.UseBenchCluster(ConnectionString, _database));
            _client = builder.Build();
            await _client.StartAsync();
        }
        var management = _client.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
        var statistics = await management.GetDetailedGrainStatistics();
        var hit = statistics.FirstOrDefault(s => s.GrainId.ToString().Contains(key, StringComparison.Ordinal));
        if (hit is null) return null;
        var index = Array.IndexOf(_siloPorts, hit.SiloAddress.Endpoint.Port);
        return index >= 0 ? index : null;
    }

    public static Task WaitAsync(Uri url, TimeSpan timeout) => BenchProcesses.WaitAsync(url, timeout);

    private Dictionary<string, string> CommonEnvironment() => BenchProcesses.ServiceEnvironment(ConnectionString, _database, Api);

    private Dictionary<string, string> SiloEnvironment(int index)
    {
        var env = CommonEnvironment();
        env["Orleans__SiloPort"] = _siloPorts[index].ToString();
        env["Orleans__GatewayPort"] = _gatewayPorts[index].ToString();
        env["PatientConnect__TokenEncryptionKey"] = _tokenKey;
        env["PatientConnect__Tenants__0__Id"] = Tenant;
        env["PatientConnect__Tenants__0__ApiKeys__0"] = ApiKey;
        // Connect flows here measure the connect path; syncs are started explicitly where wanted.
        env["PatientConnect__Refresh__StartSyncOnActivate"] = "false";
        env["PatientConnect__Webhooks__PollInterval"] = "00:00:00.200";
        string[] hospitals = ["riverside", "lakeside", "summit"];
        string[] vendors = ["epic", "cerner", "payer"];
        for (var i = 0; i < hospitals.Length; i++)
        {
            var prefix = $"Directory__Sources__{i}__";
            env[prefix + "Name"] = hospitals[i];
            env[prefix + "Vendor"] = vendors[i];
            env[prefix + "FhirBaseUrl"] = FhirBase(hospitals[i]);
            env[prefix + "ClientId"] = "sandbox-public";
            env[prefix + "AuthMethod"] = "none";
        }
        return env;
    }

    private Process Start(string name, string project, string file, string[] args, Dictionary<string, string> env, int? siloIndex)
    {
        var dll = BenchProcesses.Dll(project, file, "Release");
        var logDir = Environment.GetEnvironmentVariable("CHAOS_LOG_DIR");
        StreamWriter? log = logDir is null ? null : new StreamWriter(Path.Combine(logDir, $"{name}.log"), append: true) { AutoFlush = true };
        var gate = new object();
        var process = BenchProcesses.Start(dll, args, env, line =>
        {
            if (siloIndex is { } i) Interlocked.Add(ref _siloLogBytes[i], line.Length + 1);
            lock (gate) log?.WriteLine(line);
        });
        if (siloIndex is null) _others.Add(process);
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                await _client.StopAsync();
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"stopping the management client: {e.Message}");
            }
            _client.Dispose();
        }
        await BenchProcesses.StopAsync(_others.Concat(_silos));
        await BenchProcesses.DropDatabaseAsync(_admin, _database);
    }
}

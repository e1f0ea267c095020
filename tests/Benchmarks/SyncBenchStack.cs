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
        Api = new Uri($"http://127.0.0.1:{SandboxPagesBenchmark.FreePort()}/");
        Sandbox = new Uri($"http://127.0.0.1:{SandboxPagesBenchmark.FreePort()}/");
    }

    /// <param name="extra">Settings given to the silo and the Api on top of the stack's own (e.g. telemetry).</param>
    public static async Task<SyncBenchStack> StartAsync(string adminConnectionString, string configuration,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        var database = "pc_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        await using (var admin = new NpgsqlConnection(adminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", admin);
            await create.ExecuteNonQueryAsync();
        }
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
        var sandboxDll = Dll("SandboxEhr", "SandboxEhr.dll", configuration);
        var siloDll = Dll("Silo", "PatientConnect.Silo.dll", configuration);
        var apiDll = Dll("Api", "PatientConnect.Api.dll", configuration);
        var sandbox = Start(sandboxDll, ["--urls", Sandbox.ToString().TrimEnd('/')], new Dictionary<string, string>());

        var silo = Environment();
        silo["Orleans__SiloPort"] = SandboxPagesBenchmark.FreePort().ToString();
        silo["Orleans__GatewayPort"] = SandboxPagesBenchmark.FreePort().ToString();
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
        await WaitAsync(new Uri(Sandbox, "hospitals"));
        var api = Start(apiDll, ["--urls", Api.ToString().TrimEnd('/')], Environment());
        await WaitAsync(new Uri(Api, "health/ready"));
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

    private Dictionary<string, string> OwnEnvironment() => new()
    {
        ["ConnectionStrings__Postgres"] = ConnectionString,
        ["Orleans__ClusterId"] = _database,
        ["Orleans__ServiceId"] = _database,
        ["PatientConnect__PublicBaseUrl"] = Api.ToString().TrimEnd('/'),
        ["PatientConnect__AllowLoopbackHttp"] = "true",
        ["PatientConnect__Outbound__AllowLoopback"] = "true",
        ["PatientConnect__RateLimits__Enabled"] = "false",
        ["Logging__LogLevel__Default"] = "Warning",
        // The sync's own summary line (elapsed, storing, waiting for pages) is worth seeing.
        ["Logging__LogLevel__PatientConnect.Grains.Sync"] = "Information",
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
    };

    private Process Start(string dll, string[] args, Dictionary<string, string> env)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in env) info.Environment[key] = value;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {dll}");
        // Drained so a chatty process never blocks on a full pipe.
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.Contains("Sync conn_", StringComparison.Ordinal) && line.Contains(" ms ", StringComparison.Ordinal))
                Console.WriteLine($"  [{Path.GetFileNameWithoutExtension(dll)}] {line.Trim()}");
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line) Console.Error.WriteLine($"  [{Path.GetFileNameWithoutExtension(dll)}] {line}");
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    private async Task WaitAsync(Uri url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (_processes.Any(p => p.HasExited && p.ExitCode != 0)) throw new InvalidOperationException("a process of the stack exited");
            try
            {
                using var response = await http.GetAsync(url);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{url} not ready");
    }

    /// <summary>A program's built dll under the repository root (also the chaos stack's).</summary>
    internal static string Dll(string project, string file, string configuration)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Orleans.sln"))) continue;
            var path = Path.Combine(dir.FullName, project, "bin", configuration, "net10.0", file);
            if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found: dotnet build {project} -c {configuration}");
            return path;
        }
        throw new DirectoryNotFoundException("Orleans.sln not found above the benchmark.");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(_adminConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}

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
    public string ApiKey { get; } = "pc_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    public Uri Api { get; } = new($"http://127.0.0.1:{SandboxPagesBenchmark.FreePort()}/");
    public Uri Sandbox { get; } = new($"http://127.0.0.1:{SandboxPagesBenchmark.FreePort()}/");
    public IReadOnlyList<Uri> SiloHttp { get; }
    /// <summary>Process ids by role (api, silo0.., sandbox), for CPU accounting.</summary>
    public Dictionary<string, int> ProcessIds { get; } = [];

    private SessionsBenchStack(string admin, string database, int silos)
    {
        _adminConnectionString = admin;
        _database = database;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database, MaxPoolSize = 100 }.ConnectionString;
        SiloHttp = Enumerable.Range(0, silos).Select(_ => new Uri($"http://127.0.0.1:{SandboxPagesBenchmark.FreePort()}/")).ToArray();
    }

    /// <summary>The Api runs inside every silo (PatientConnect:Api:InSilo) instead of as a process of its own.</summary>
    public bool ApiInSilo { get; private init; }

    /// <summary>Where requests go: the Api process, or (Api in the silos) every silo's HTTP port.</summary>
    public IReadOnlyList<Uri> ApiEndpoints => ApiInSilo ? SiloHttp : [Api];

    public static async Task<SessionsBenchStack> StartAsync(string adminConnectionString, string configuration, int silos, bool apiInSilo = false)
    {
        var database = "pc_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        await using (var admin = new NpgsqlConnection(adminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", admin);
            await create.ExecuteNonQueryAsync();
        }
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
        var sandboxDll = SyncBenchStack.Dll("SandboxEhr", "SandboxEhr.dll", configuration);
        var siloDll = SyncBenchStack.Dll("Silo", "PatientConnect.Silo.dll", configuration);
        var apiDll = SyncBenchStack.Dll("Api", "PatientConnect.Api.dll", configuration);
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
                ["Orleans__SiloPort"] = SandboxPagesBenchmark.FreePort().ToString(),
                ["Orleans__GatewayPort"] = SandboxPagesBenchmark.FreePort().ToString(),
            };
            ProcessIds[$"silo{i}"] = Start(siloDll, ["--urls", SiloHttp[i].ToString().TrimEnd('/')], env).Id;
        }
        await WaitAsync(new Uri(Sandbox, "hospitals"));
        foreach (var siloHttp in SiloHttp) await WaitAsync(new Uri(siloHttp, "health/ready"));
        if (!ApiInSilo)
        {
            ProcessIds["api"] = Start(apiDll, ["--urls", Api.ToString().TrimEnd('/')], Environment()).Id;
            await WaitAsync(new Uri(Api, "health/ready"));
        }
    }

    // The shipped settings (appsettings.json: Information logging, telemetry on), as an operator runs it;
    // only what a loopback stack needs besides.
    private Dictionary<string, string> Environment() => new()
    {
        ["ConnectionStrings__Postgres"] = ConnectionString,
        ["Orleans__ClusterId"] = _database,
        ["Orleans__ServiceId"] = _database,
        ["PatientConnect__PublicBaseUrl"] = (ApiInSilo ? SiloHttp[0] : Api).ToString().TrimEnd('/'),
        ["PatientConnect__AllowLoopbackHttp"] = "true",
        ["PatientConnect__Outbound__AllowLoopback"] = "true",
        // One client on one address and key: the budget would measure the limiter, not the service.
        ["PatientConnect__RateLimits__Enabled"] = "false",
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
        var name = Path.GetFileNameWithoutExtension(dll);
        // Drained so a chatty process never blocks on a full pipe; warnings and errors are shown.
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && (line.StartsWith("warn:", StringComparison.Ordinal) || line.StartsWith("fail:", StringComparison.Ordinal)
                                       || line.StartsWith("crit:", StringComparison.Ordinal)))
            {
                Console.Error.WriteLine($"  [{name}] {line.Trim()}");
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line) Console.Error.WriteLine($"  [{name}] {line}");
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    private async Task WaitAsync(Uri url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
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
        // An autovacuum worker of the server's own role can hold the database a little while (FORCE may
        // not end it): try again for a minute, then say what is left rather than fail the run.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException) when (attempt < 30)
            {
                await Task.Delay(2000);
            }
            catch (PostgresException e)
            {
                Console.Error.WriteLine($"could not drop the benchmark database {_database} ({e.MessageText}); drop it later with DROP DATABASE {_database}");
                return;
            }
        }
    }
}

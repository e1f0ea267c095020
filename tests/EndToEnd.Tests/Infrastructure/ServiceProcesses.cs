using System.Net;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The whole service as real processes over HTTP: the sandbox EHR, N silos and the Api, each
/// started from its built dll on free 127.0.0.1 ports, on a fresh Postgres database with the
/// schema applied by `Silo --migrate-only`. Two tenants with one API key each; the sandbox's three
/// hospitals in the directory, plus one listed source without a client registration.
/// </summary>
public class ServiceProcesses : IAsyncLifetime
{
    public const string TenantA = "tenant-a";
    public const string TenantB = "tenant-b";
    public const string AdminUser = "admin";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly int _siloCount;
    private readonly List<ManagedProcess> _finished = [];
    private ManagedProcess? _sandbox;
    private ManagedProcess? _api;
    private ManagedProcess?[] _silos = [];
    private TestDatabase? _database;
    private int _apiPort;
    private int[] _siloPorts = [];
    private int[] _gatewayPorts = [];
    private int[] _siloHttpPorts = [];

    public ServiceProcesses() : this(silos: 1) { }

    protected ServiceProcesses(int silos) => _siloCount = silos;

    /// <summary>
    /// The Api inside silo 0 (PatientConnect:Api:InSilo) on <see cref="ApiBase"/> instead of a process of
    /// its own: the other topology the service ships, measured faster for reads (README "Performance").
    /// </summary>
    protected virtual bool ApiInSilo => false;

    public string ClusterId { get; } = "e2e-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    public string ApiKeyA { get; } = "pc_test_a_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    public string ApiKeyB { get; } = "pc_test_b_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    public string AdminPassword { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
    private string TokenKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public Uri ApiBase { get; private set; } = null!;
    public Uri SandboxBase { get; private set; } = null!;
    public string ConnectionString => _database?.ConnectionString ?? throw new InvalidOperationException("Not started.");
    public int SiloCount => _siloCount;

    /// <summary>FHIR base URL of a sandbox hospital (riverside, lakeside, summit) as the directory lists it.</summary>
    public string FhirBase(string hospital) => new Uri(SandboxBase, $"hospitals/{hospital}/fhir").ToString();

    public async ValueTask InitializeAsync()
    {
        try
        {
            await StartAllAsync();
        }
        catch (Exception e)
        {
            var output = AllOutput();
            await DisposeAsync();
            throw new InvalidOperationException($"The service did not start: {e.Message}\n{output}", e);
        }
    }

    private async Task StartAllAsync()
    {
        await BeforeStartAsync();
        _database = await TestDatabase.CreateAsync();

        var sandboxPort = FreePorts.Next();
        SandboxBase = new Uri($"http://127.0.0.1:{sandboxPort}/");
        _apiPort = FreePorts.Next();
        ApiBase = new Uri($"http://127.0.0.1:{_apiPort}/");
        _siloPorts = Enumerable.Range(0, _siloCount).Select(_ => FreePorts.Next()).ToArray();
        _gatewayPorts = Enumerable.Range(0, _siloCount).Select(_ => FreePorts.Next()).ToArray();
        _siloHttpPorts = Enumerable.Range(0, _siloCount).Select(_ => FreePorts.Next()).ToArray();
        // Silo 0's own HTTP port is then the Api's.
        if (ApiInSilo) _siloHttpPorts[0] = _apiPort;
        _silos = new ManagedProcess?[_siloCount];

        _sandbox = ManagedProcess.Start("sandbox", RepoPaths.SandboxDll, ["--urls", $"http://127.0.0.1:{sandboxPort}"], new Dictionary<string, string>());

        var migrate = ManagedProcess.Start("migrate", RepoPaths.SiloDll, ["--migrate-only"], SiloEnvironment(0));
        _finished.Add(migrate);
        await migrate.WaitForSuccessAsync(TimeSpan.FromSeconds(60));

        for (var i = 0; i < _siloCount; i++) StartSilo(i);
        await WaitForAsync(SandboxBase, "hospitals", _sandbox);
        await WaitForActiveSilosAsync(_siloCount);

        if (ApiInSilo)
        {
            await WaitForReadyAsync();
            return;
        }
        _api = ManagedProcess.Start("api", RepoPaths.ApiDll, ["--urls", $"http://127.0.0.1:{_apiPort}"], ApiEnvironment());
        await WaitForReadyAsync();
    }

    private Dictionary<string, string> CommonEnvironment()
    {
        var env = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = ServiceConnectionString(ConnectionString),
            ["Orleans__ClusterId"] = ClusterId,
            ["Orleans__ServiceId"] = ClusterId,
            ["PatientConnect__PublicBaseUrl"] = ApiBase.ToString().TrimEnd('/'),
            ["PatientConnect__AllowLoopbackHttp"] = "true",
            // The sandbox and the tests' webhook receivers are on 127.0.0.1.
            ["PatientConnect__Outbound__AllowLoopback"] = "true",
            // Tests share two keys and one address (127.0.0.1) across parallel classes: limits far above
            // what they send; RateLimitTests runs its own service with low ones.
            ["PatientConnect__RateLimits__PerKeyPerSecond"] = "100000",
            ["PatientConnect__RateLimits__PerKeyBurst"] = "100000",
            ["PatientConnect__RateLimits__PerAddressPerSecond"] = "100000",
            ["PatientConnect__RateLimits__PerAddressBurst"] = "100000",
            ["PatientConnect__RateLimits__PerAddressApiPerSecond"] = "100000",
            ["PatientConnect__RateLimits__PerAddressApiBurst"] = "100000",
        };
        AddServiceEnvironment(env);
        return env;
    }

    /// <summary>The connection string the processes get (a fixture may route it through a proxy it can cut).</summary>
    protected virtual string ServiceConnectionString(string direct) => direct;

    /// <summary>What a derived fixture starts before the processes (a proxy, a telemetry receiver).</summary>
    protected virtual Task BeforeStartAsync() => Task.CompletedTask;

    /// <summary>What a derived fixture stops after the processes.</summary>
    protected virtual ValueTask AfterStopAsync() => ValueTask.CompletedTask;

    /// <summary>Extra settings of a derived fixture for every process (e.g. an OTLP endpoint).</summary>
    protected virtual void AddServiceEnvironment(Dictionary<string, string> env)
    {
    }

    /// <summary>Silo <paramref name="index"/>'s own HTTP port: /health/live, /health/ready, /metrics.</summary>
    public Uri SiloHttpBase(int index) => new($"http://127.0.0.1:{_siloHttpPorts[index]}/");

    private Dictionary<string, string> SiloEnvironment(int index)
    {
        var env = CommonEnvironment();
        env["Orleans__SiloPort"] = _siloPorts[index].ToString();
        env["Orleans__GatewayPort"] = _gatewayPorts[index].ToString();
        env["Orleans__AdvertisedIP"] = "127.0.0.1";
        env["PatientConnect__TokenEncryptionKey"] = TokenKey;
        env["PatientConnect__Tenants__0__Id"] = TenantA;
        env["PatientConnect__Tenants__0__ApiKeys__0"] = ApiKeyA;
        env["PatientConnect__Tenants__1__Id"] = TenantB;
        env["PatientConnect__Tenants__1__ApiKeys__0"] = ApiKeyB;
        AddSource(env, 0, "Riverside General Hospital", "epic", "riverside", "Madison", "WI", "53703", "sandbox-public", null, "none");
        AddSource(env, 1, "Lakeside Medical Center", "cerner", "lakeside", "Kansas City", "MO", "64108", "sandbox-confidential", "sandbox-secret", "client_secret_basic");
        AddSource(env, 2, "Summit Health Plan", "payer", "summit", "Hartford", "CT", "06103", "sandbox-public", null, "none");
        // Listed but not connectable: no client registration.
        env["Directory__Sources__3__Name"] = "Unregistered Clinic";
        env["Directory__Sources__3__Vendor"] = "epic";
        env["Directory__Sources__3__FhirBaseUrl"] = new Uri(SandboxBase, "hospitals/unregistered/fhir").ToString();
        env["Directory__Sources__3__City"] = "Springfield";
        env["Directory__Sources__3__State"] = "IL";
        env["Directory__Sources__3__Zip"] = "62701";
        if (ApiInSilo)
        {
            env["PatientConnect__Api__InSilo"] = "true";
            env["PatientConnect__Admin__Username"] = AdminUser;
            env["PatientConnect__Admin__Password"] = AdminPassword;
        }
        AddSiloEnvironment(env);
        return env;
    }

    private void AddSource(Dictionary<string, string> env, int n, string name, string vendor, string hospital,
        string city, string state, string zip, string clientId, string? secret, string authMethod)
    {
        var prefix = $"Directory__Sources__{n}__";
        env[prefix + "Name"] = name;
        env[prefix + "Vendor"] = vendor;
        env[prefix + "FhirBaseUrl"] = FhirBase(hospital);
        env[prefix + "City"] = city;
        env[prefix + "State"] = state;
        env[prefix + "Zip"] = zip;
        env[prefix + "ClientId"] = clientId;
        env[prefix + "AuthMethod"] = authMethod;
        if (secret is not null) env[prefix + "ClientSecret"] = secret;
    }

    private Dictionary<string, string> ApiEnvironment()
    {
        var env = CommonEnvironment();
        env["PatientConnect__Admin__Username"] = AdminUser;
        env["PatientConnect__Admin__Password"] = AdminPassword;
        AddApiEnvironment(env);
        return env;
    }

    /// <summary>Extra Api settings of a derived fixture (e.g. low rate limits).</summary>
    protected virtual void AddApiEnvironment(Dictionary<string, string> env)
    {
    }

    /// <summary>Extra silo settings of a derived fixture (e.g. faster refresh and webhook retry timings).</summary>
    protected virtual void AddSiloEnvironment(Dictionary<string, string> env)
    {
    }

    /// <summary>SIGKILL of the Api and a new Api process on the same port, ready.</summary>
    public async Task RestartApiAsync()
    {
        if (_api is not null)
        {
            _api.Kill();
            _finished.Add(_api);
        }
        if (ApiInSilo)
        {
            await WaitForReadyAsync();
            return;
        }
        _api = ManagedProcess.Start("api", RepoPaths.ApiDll, ["--urls", $"http://127.0.0.1:{_apiPort}"], ApiEnvironment());
        await WaitForReadyAsync();
    }

    /// <summary>
    /// A second Api instance beside the first (same cluster, same settings, its own port), ready; it is
    /// stopped with the fixture. For what must hold on every instance (API-key revocation).
    /// </summary>
    public async Task<Uri> StartAnotherApiAsync()
    {
        var port = FreePorts.Next();
        var origin = new Uri($"http://127.0.0.1:{port}/");
        var process = ManagedProcess.Start($"api-{port}", RepoPaths.ApiDll, ["--urls", $"http://127.0.0.1:{port}"], ApiEnvironment());
        _finished.Add(process);
        await WaitForAsync(origin, "health/ready", process);
        return origin;
    }

    /// <summary>The running Api process (its id for memory readings).</summary>
    public ManagedProcess Api => _api ?? throw new InvalidOperationException("The Api is not running.");

    public ManagedProcess Silo(int index) => _silos[index] ?? throw new InvalidOperationException($"Silo {index} is not running.");

    /// <summary>Starts (or restarts, on the same ports) silo <paramref name="index"/>.</summary>
    public ManagedProcess StartSilo(int index)
    {
        if (_silos[index] is { HasExited: false }) throw new InvalidOperationException($"Silo {index} is running.");
        if (_silos[index] is { } old) _finished.Add(old);
        var silo = ManagedProcess.Start($"silo{index}", RepoPaths.SiloDll, ["--urls", $"http://127.0.0.1:{_siloHttpPorts[index]}"], SiloEnvironment(index));
        _silos[index] = silo;
        return silo;
    }

    /// <summary>SIGKILL of one silo: a crash, not a shutdown.</summary>
    public void KillSilo(int index) => Silo(index).Kill();

    /// <summary>Until the membership table lists <paramref name="count"/> active silos of this cluster.</summary>
    public async Task WaitForActiveSilosAsync(int count)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        var last = -1;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var silo in _silos)
            {
                if (silo is { HasExited: true }) throw new InvalidOperationException($"{silo.Name} exited with {silo.ExitCode}.");
            }
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString);
                await connection.OpenAsync();
                // Orleans' SiloStatus.Active is 3.
                await using var command = new NpgsqlCommand(
                    "select count(*) from orleansmembershiptable where deploymentid = @cluster and status = 3", connection);
                command.Parameters.AddWithValue("cluster", ClusterId);
                last = Convert.ToInt32(await command.ExecuteScalarAsync());
                // Exactly: right after a SIGKILL and restart the killed incarnation's row still says Active
                // until the cluster declares it dead, and calls routed to it fail until then.
                if (last == count) return;
            }
            catch (PostgresException)
            {
                // The table appears with the schema; until then, keep polling.
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"{last} of {count} silos active after {StartTimeout}.");
    }

    /// <summary>Until GET /health/ready answers 200.</summary>
    public async Task WaitForReadyAsync() => await WaitForAsync(ApiBase, "health/ready", _api ?? Silo(0));

    private static async Task WaitForAsync(Uri origin, string path, ManagedProcess process)
    {
        using var http = new HttpClient { BaseAddress = origin, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + StartTimeout;
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"{process.Name} exited with {process.ExitCode}.");
            try
            {
                using var response = await http.GetAsync(path);
                if (response.StatusCode == HttpStatusCode.OK) return;
                last = $"{(int)response.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timeout";
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{origin}{path} not ready after {StartTimeout} ({last}).");
    }

    /// <summary>An Api client with this key (null: no Authorization header) that never follows redirects.</summary>
    public HttpClient ApiClient(string? apiKey)
    {
        var http = NoRedirectClient();
        http.BaseAddress = ApiBase;
        if (apiKey is not null) http.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        return http;
    }

    /// <summary>A browser stand-in: every redirect is a step the test inspects and follows itself.</summary>
    public static HttpClient NoRedirectClient() =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>Everything the processes printed, for a failing test's output.</summary>
    public string AllOutput(int maxLinesPerProcess = 400)
    {
        var text = new StringBuilder();
        IEnumerable<ManagedProcess?> all = [.. _finished, _sandbox, .. _silos, _api];
        foreach (var process in all)
        {
            if (process is null) continue;
            var output = process.Output(maxLinesPerProcess);
            text.AppendLine($"===== {process.Name} (pid {process.Id}{(process.HasExited ? $", exited {process.ExitCode}" : "")}) =====");
            text.Append(output);
        }
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_api is not null) await _api.DisposeAsync();
        foreach (var silo in _silos)
        {
            if (silo is not null) await silo.DisposeAsync();
        }
        if (_sandbox is not null) await _sandbox.DisposeAsync();
        foreach (var process in _finished) await process.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
        _api = null;
        _sandbox = null;
        _silos = [];
        _finished.Clear();
        _database = null;
        await AfterStopAsync();
    }
}

/// <summary>Two silos sharing one Postgres, for crash and restart tests.</summary>
public sealed class TwoSiloServices() : ServiceProcesses(silos: 2);

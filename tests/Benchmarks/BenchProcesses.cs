using System.Diagnostics;
using System.Security.Cryptography;
using Npgsql;

namespace PatientConnect.Benchmarks;

/// <summary>
/// What every benchmark stack (sessions, sync, chaos, telemetry) does with the service's programs:
/// find the built dll, start it with its settings and drain its output, wait for an endpoint, stop
/// everything, and make and drop the throwaway database. One copy for all of them.
/// </summary>
public static class BenchProcesses
{
    /// <summary>A program's built dll under the repository root.</summary>
    public static string Dll(string project, string file, string configuration)
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

    /// <summary>
    /// Starts <c>dotnet dll args</c> with <paramref name="env"/> on top of this process's environment. Every
    /// line it writes goes to <paramref name="onLine"/> (null: dropped); the pipes are always drained, so a
    /// chatty process never blocks on a full one.
    /// </summary>
    public static Process Start(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> env, Action<string>? onLine = null)
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
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line) onLine?.Invoke(line);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line) onLine?.Invoke(line);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// The settings every process of a loopback benchmark stack gets: its database and cluster, where the
    /// Api is, loopback allowed (sandbox and receivers are on 127.0.0.1), no rate limits (one client on one
    /// address and key would measure the limiter), production environment.
    /// </summary>
    public static Dictionary<string, string> ServiceEnvironment(string connectionString, string cluster, Uri publicBaseUrl)
    {
        var env = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = connectionString,
            ["Orleans__ClusterId"] = cluster,
            ["Orleans__ServiceId"] = cluster,
            ["PatientConnect__PublicBaseUrl"] = publicBaseUrl.ToString().TrimEnd('/'),
            ["PatientConnect__AllowLoopbackHttp"] = "true",
            ["PatientConnect__Outbound__AllowLoopback"] = "true",
            ["PatientConnect__RateLimits__Enabled"] = "false",
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };
        // Experiments on the service's processes only (not the client or the floors in this process):
        // PC_BENCH_SERVICE_X=v reaches them as X=v, e.g. a runtime knob measured before it is made a default.
        foreach (System.Collections.DictionaryEntry variable in System.Environment.GetEnvironmentVariables())
        {
            if (variable.Key is string name && name.StartsWith(ServicePrefix, StringComparison.Ordinal) && name.Length > ServicePrefix.Length)
                env[name[ServicePrefix.Length..]] = variable.Value as string ?? "";
        }
        return env;
    }

    private const string ServicePrefix = "PC_BENCH_SERVICE_";

    /// <summary>A warning, error or crash line of .NET's console logger or runtime: worth showing.</summary>
    public static bool IsProblem(string line) =>
        line.StartsWith("warn:", StringComparison.Ordinal) || line.StartsWith("fail:", StringComparison.Ordinal)
        || line.StartsWith("crit:", StringComparison.Ordinal) || line.StartsWith("Unhandled exception", StringComparison.Ordinal)
        || line.StartsWith("PatientConnect.", StringComparison.Ordinal);

    /// <summary>Until <paramref name="url"/> answers 2xx; fails early when one of <paramref name="watch"/> exits with an error.</summary>
    public static async Task WaitAsync(Uri url, TimeSpan timeout, IEnumerable<Process>? watch = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (watch?.Any(p => p.HasExited && p.ExitCode != 0) == true) throw new InvalidOperationException($"a process of the stack exited while waiting for {url}");
            try
            {
                using var response = await http.GetAsync(url);
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{url} not ready in {timeout}");
    }

    /// <summary>Kills each process (and its children) that still runs, newest first, and disposes them all.</summary>
    public static async Task StopAsync(IEnumerable<Process?> processes)
    {
        foreach (var process in processes.Reverse())
        {
            if (process is null) continue;
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
    }

    /// <summary>A fresh database named <paramref name="prefix"/> + random hex, made with the admin connection.</summary>
    public static async Task<string> CreateDatabaseAsync(string adminConnectionString, string prefix)
    {
        var database = prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        await using var admin = new NpgsqlConnection(adminConnectionString);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", admin);
        await create.ExecuteNonQueryAsync();
        return database;
    }

    /// <summary>
    /// Drops the benchmark's database, waiting up to a minute for an autovacuum worker in it
    /// (<see cref="DatabaseDrop"/>); what is left then is said rather than failing the run.
    /// </summary>
    public static async Task DropDatabaseAsync(string adminConnectionString, string database)
    {
        try
        {
            await DatabaseDrop.DropAsync(adminConnectionString, database, TimeSpan.FromMinutes(1));
        }
        catch (NpgsqlException e)
        {
            Console.Error.WriteLine($"could not drop the benchmark database {database} ({e.Message}); drop it later with DROP DATABASE {database}");
        }
    }
}

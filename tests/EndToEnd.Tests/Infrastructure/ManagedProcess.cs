using System.Diagnostics;
using System.Text;

namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>
/// One real program (`dotnet X.dll`) with its output kept in memory, so a failing test can show
/// what the service said. Stop() is a graceful SIGTERM; Kill() is SIGKILL, a crash.
/// </summary>
public sealed class ManagedProcess : IAsyncDisposable
{
    private const int MaxLines = 4000;
    private readonly Process _process;
    private readonly Queue<string> _lines = new();
    private readonly Lock _gate = new();

    public string Name { get; }

    private ManagedProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public static ManagedProcess Start(string name, string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> env)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        // The test runner's own settings must not leak into the service (e.g. a developer's
        // ConnectionStrings__Postgres or a dev API key exported in the shell).
        foreach (var key in info.Environment.Keys.ToList())
        {
            if (key.StartsWith("PatientConnect__", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("Orleans__", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("Directory__", StringComparison.OrdinalIgnoreCase)
                || key.Equals("PATIENTCONNECT_DEV_API_KEY", StringComparison.OrdinalIgnoreCase))
            {
                info.Environment.Remove(key);
            }
        }
        info.Environment["DOTNET_ENVIRONMENT"] = "Development";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        // Every outgoing request at Information would bury what a failing test needs to see.
        info.Environment["Logging__LogLevel__System.Net.Http.HttpClient"] = "Warning";
        info.Environment["Logging__LogLevel__Microsoft.AspNetCore.Authentication"] = "Warning";
        info.Environment["Logging__LogLevel__PatientConnect.Api.Auth"] = "Warning";
        info.Environment["Logging__LogLevel__Orleans.Runtime.SiloOptionsLogger"] = "Warning";
        foreach (var (key, value) in env) info.Environment[key] = value;

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var managed = new ManagedProcess(name, process);
        process.OutputDataReceived += (_, e) => managed.Append(e.Data);
        process.ErrorDataReceived += (_, e) => managed.Append(e.Data);
        if (!process.Start()) throw new InvalidOperationException($"{name} did not start.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return managed;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_gate)
        {
            _lines.Enqueue(line);
            while (_lines.Count > MaxLines) _lines.Dequeue();
        }
    }

    /// <summary>The last <paramref name="maxLines"/> lines the program printed, each prefixed by its name.</summary>
    public string Output(int maxLines = MaxLines)
    {
        lock (_gate)
        {
            var text = new StringBuilder();
            foreach (var line in _lines.Skip(Math.Max(0, _lines.Count - maxLines))) text.Append(Name).Append(" | ").AppendLine(line);
            return text.ToString();
        }
    }

    /// <summary>Runs to completion (e.g. --migrate-only) and fails with the output when it does not succeed.</summary>
    public async Task WaitForSuccessAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{Name} did not finish within {timeout}.\n{Output()}");
        }
        if (_process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Name} exited with {_process.ExitCode}.\n{Output()}");
        }
    }

    /// <summary>SIGKILL: no shutdown hooks, no membership goodbye; the cluster sees a crash.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM and a bounded wait, then SIGKILL.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited) return;
        try
        {
            Posix.Kill(_process.Id, Posix.SigTerm);
            using var cts = new CancellationTokenSource(grace);
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }
}

internal static class Posix
{
    public const int SigTerm = 15;

    // Process.Kill only sends SIGKILL; a graceful stop needs SIGTERM.
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);
}

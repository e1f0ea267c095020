using System.Diagnostics;
using System.Text;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Migrations;

/// <summary>`dotnet PatientConnect.Silo.dll …` run to completion, with its exit code and output.</summary>
internal sealed record SiloRun(int ExitCode, string StandardOutput, string StandardError)
{
    public string All => $"exit {ExitCode}\n--- stdout\n{StandardOutput}\n--- stderr\n{StandardError}";

    /// <summary>The "migrations: N applied, M already applied" line the silo prints.</summary>
    public (int Applied, int AlreadyApplied) Summary()
    {
        var line = StandardOutput.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("migrations: ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"No migrations summary line.\n{All}");
        var parts = line["migrations: ".Length..].Split(',', StringSplitOptions.TrimEntries);
        return (int.Parse(parts[0].Split(' ')[0]), int.Parse(parts[1].Split(' ')[0]));
    }
}

internal static class SiloCommand
{
    public static async Task<SiloRun> MigrateOnlyAsync(string? connectionString, CancellationToken cancellationToken)
    {
        var env = new Dictionary<string, string>();
        if (connectionString is not null)
        {
            env["ConnectionStrings__Postgres"] = connectionString;
        }

        return await RunAsync(["--migrate-only"], env, TimeSpan.FromSeconds(90), cancellationToken);
    }

    /// <summary>Runs the silo (or, with <paramref name="dll"/>, another of our programs) to its exit.</summary>
    public static async Task<SiloRun> RunAsync(string[] args, IReadOnlyDictionary<string, string> env, TimeSpan timeout,
        CancellationToken cancellationToken, string? dll = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll ?? RepoPaths.SiloDll)!,
        };
        info.ArgumentList.Add(dll ?? RepoPaths.SiloDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Only what the test sets: a developer's exported settings must not change the outcome.
        foreach (var key in info.Environment.Keys.ToList())
        {
            if (key.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("PatientConnect__", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("Orleans__", StringComparison.OrdinalIgnoreCase))
            {
                info.Environment.Remove(key);
            }
        }

        info.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in env)
        {
            info.Environment[key] = value;
        }

        using var process = new Process { StartInfo = info };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The silo did not exit within {timeout}.\n{stdout}\n{stderr}");
        }

        // WaitForExitAsync returns after the redirected streams reach end of file.
        lock (stdout) lock (stderr)
        {
            return new SiloRun(process.ExitCode, stdout.ToString(), stderr.ToString());
        }
    }
}

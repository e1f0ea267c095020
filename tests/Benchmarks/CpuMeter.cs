using System.Diagnostics;

namespace PatientConnect.Benchmarks;

/// <summary>
/// CPU time used by each part of the stack between two readings (Linux /proc): on a small machine
/// the sandbox, silo, Api, Postgres and this client share the cores, so where the CPU went explains
/// a wall-clock number better than the number alone.
/// </summary>
public sealed class CpuMeter(IReadOnlyDictionary<string, int> processes)
{
    private static readonly double TicksPerSecond = 100.0; // USER_HZ on Linux

    public IReadOnlyDictionary<string, double> Read()
    {
        var reading = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, pid) in processes) reading[name] = ProcessMs(pid);
        reading["postgres"] = PostgresMs();
        reading["client"] = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
        return reading;
    }

    public static string Describe(IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after) =>
        string.Join(", ", after.Select(kv => $"{kv.Key} {kv.Value - before.GetValueOrDefault(kv.Key):F0}"));

    private static double ProcessMs(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the ")" that closes the command name: utime is the 12th, stime the 13th.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) * 1000 / TicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static double PostgresMs()
    {
        var total = 0.0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == "postgres") total += ProcessMs(pid);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return total;
    }
}

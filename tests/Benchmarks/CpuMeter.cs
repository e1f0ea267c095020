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
        foreach (var (pid, ms) in PostgresMs()) reading[$"postgres:{pid}"] = ms;
        reading["client"] = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
        return reading;
    }

    /// <summary>
    /// Per part, the CPU used between the readings. Postgres is the sum over its processes (one per
    /// connection): a backend that started in between counts from zero, one that ended is not seen.
    /// </summary>
    public static string Describe(IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after)
    {
        var parts = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, value) in after)
        {
            var name = key.StartsWith("postgres:", StringComparison.Ordinal) ? "postgres" : key;
            parts[name] = parts.GetValueOrDefault(name) + value - before.GetValueOrDefault(key);
        }
        return string.Join(", ", parts.Select(kv => $"{kv.Key} {kv.Value:F0}"));
    }

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

    private static Dictionary<int, double> PostgresMs()
    {
        var total = new Dictionary<int, double>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == "postgres") total[pid] = ProcessMs(pid);
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

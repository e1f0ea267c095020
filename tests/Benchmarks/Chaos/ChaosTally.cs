using System.Collections.Concurrent;
using System.Diagnostics;

namespace PatientConnect.Benchmarks.Chaos;

/// <summary>What one scenario saw: every answer, every flow, and the checks made after it settled.</summary>
public sealed class ChaosTally(string scenario)
{
    public string Scenario { get; } = scenario;
    public int Started;
    public int Succeeded;
    public ConcurrentDictionary<string, int> FailedBy { get; } = new(StringComparer.Ordinal);
    public int Answers;
    public int Answers5xx;
    /// <summary>Failed answers that were not a 503 problem+json with Retry-After.</summary>
    public int NotProblem503;
    public ConcurrentDictionary<int, int> StatusCounts { get; } = new();
    public long SlowestRequestMs;
    public long SlowestFlowMs;
    public long? FaultAtMs;
    public long LastFailureAtMs;
    public int StrandedSessions;
    public int DuplicateConnections;
    public int AcknowledgedLost;
    public ConcurrentBag<string> Notes { get; } = [];
    public Dictionary<string, string> Extra { get; } = new(StringComparer.Ordinal);
    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public void Answer(int status, long elapsedMs, HttpMethod method, Uri url)
    {
        Interlocked.Increment(ref Answers);
        StatusCounts.AddOrUpdate(status, 1, (_, n) => n + 1);
        if (status >= 500) Interlocked.Increment(ref Answers5xx);
        if (elapsedMs <= Interlocked.Read(ref SlowestRequestMs)) return;
        lock (_slowestGate)
        {
            if (elapsedMs <= SlowestRequestMs) return;
            SlowestRequestMs = elapsedMs;
            // Which request and when: a slow answer is explained by where it went and how it lined up with the fault.
            var at = (Clock.ElapsedMilliseconds - elapsedMs) / 1000.0;
            // Rounded first, so a start a few ms before the fault reads +0.0, not -0.0.
            var fromFault = FaultAtMs is { } fault ? Math.Round(at - fault / 1000.0, 1) + 0.0 : (double?)null;
            var since = fromFault is { } d ? $", started {(d >= 0 ? "+" : "")}{d:0.0} s from the fault" : "";
            _slowestRequest = $"{method} {Shape(url)} → {status}{since}";
        }
    }

    private readonly Lock _slowestGate = new();
    private string? _slowestRequest;

    // Ids out of the path (ps_…, conn_…), the query left off: the route, not the instance.
    private static string Shape(Uri url) => string.Join('/', url.AbsolutePath.Split('/').Select(segment =>
        segment.StartsWith("ps_", StringComparison.Ordinal) || segment.StartsWith("conn_", StringComparison.Ordinal) ? "{id}" : segment));

    public void Failed(string code)
    {
        FailedBy.AddOrUpdate(code, 1, (_, n) => n + 1);
        InterlockedMax(ref LastFailureAtMs, Clock.ElapsedMilliseconds);
    }

    public static void InterlockedMax(ref long target, long value)
    {
        long current;
        while (value > (current = Interlocked.Read(ref target)))
        {
            if (Interlocked.CompareExchange(ref target, value, current) == current) return;
        }
    }

    public void Print()
    {
        var rows = new List<(string, string)>
        {
            ("flows started", Started.ToString()),
            ("flows succeeded", $"{Succeeded} ({(Started == 0 ? 0 : 100.0 * Succeeded / Started):0.0} %)"),
            ("flows failed, by error", FailedBy.IsEmpty ? "0" : string.Join(", ", FailedBy.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}"))),
            ("sessions open/expired with an active connection", StrandedSessions.ToString()),
            ("duplicate connections", DuplicateConnections.ToString()),
            ("acknowledged writes lost", AcknowledgedLost.ToString()),
            ("answers", Answers.ToString()),
            ("answers 5xx", Answers5xx.ToString()),
            ("answers by status", string.Join(", ", StatusCounts.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}"))),
            ("slowest request", $"{SlowestRequestMs} ms{(_slowestRequest is null ? "" : $" ({_slowestRequest})")}"),
            ("slowest flow", $"{SlowestFlowMs} ms"),
            ("time to recover (fault → last failure)", FaultAtMs is { } f ? (LastFailureAtMs > f ? $"{(LastFailureAtMs - f) / 1000.0:0.0} s" : "0 s (no failure after the fault)") : "-"),
        };
        foreach (var (k, v) in Extra) rows.Add((k, v));
        var width = rows.Max(r => r.Item1.Length);
        Console.WriteLine();
        Console.WriteLine($"== {Scenario} ==");
        foreach (var (k, v) in rows) Console.WriteLine($"  {k.PadRight(width)}  {v}");
        foreach (var note in Notes.Take(10)) Console.WriteLine($"  note: {note}");
    }
}

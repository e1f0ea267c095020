using PatientConnect.Benchmarks;

// dotnet run --project tests/Benchmarks -c Release -- <benchmark> [options]
var benchmarks = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.Ordinal)
{
    ["sandbox-pages"] = SandboxPagesBenchmark.RunAsync,
    ["sessions"] = SessionsBenchmark.RunAsync,
    ["refresh"] = RefreshBenchmark.RunAsync,
    ["sync"] = SyncBenchmark.RunAsync,
    ["directory"] = DirectoryBenchmark.RunAsync,
    ["chaos"] = PatientConnect.Benchmarks.Chaos.ChaosBenchmark.RunAsync,
    ["hosted-typing"] = HostedTypingBenchmark.RunAsync,
    ["telemetry"] = TelemetryOverheadBenchmark.RunAsync,
    // Not a benchmark: the process `sessions` starts as the separate Api's topology floor.
    [GrainHopFloor.Command] = GrainHopFloor.RunProcessAsync,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: Benchmarks <{string.Join('|', benchmarks.Keys)}> [options]");
    return 2;
}
return await run(args[1..]);

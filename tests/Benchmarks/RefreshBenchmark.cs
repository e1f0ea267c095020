using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans;
using Orleans.Hosting;
using PatientConnect.Connections;

namespace PatientConnect.Benchmarks;

/// <summary>
/// `refresh`: N active connections (default 100,000) on one silo or more, under an accelerated token
/// lifetime. The connections are created through the cluster client (the same IConnectionGrain.Activate
/// the OAuth callback calls: state write, outbox event, refresh schedule row), against an in-process
/// token endpoint that stands in for the EHR and records, for every refresh, how it came relative to
/// the time the silo planned it (expiry − margin). Prints silo memory (and per connection), registration
/// time and rate, live connection activations per silo, refresh lag percentiles and lapsed tokens.
/// Bounded: it stops when every connection refreshed once or at --max-seconds.
/// <para>
/// --spread S: each connection's first token has between lifetime − S and lifetime left (S = 0: all the
/// same), as a cluster's tokens do, issued at different times; later ones have the full lifetime.
/// </para>
///
///   refresh [--pg ADMIN_CONNSTR] [--configuration Release|Debug] [--connections 100000] [--lifetime 120]
///           [--spread 0] [--concurrency 64] [--silos 1] [--max-seconds 900] [--early-window 0]
/// <para>
/// --early-window S: PatientConnect:Refresh:EarlyWindow (a silo with free refresh slots may start a refresh
/// up to S, at most the margin, before its plan); the lag printed is still measured against the plan.
/// </para>
/// </summary>
public static class RefreshBenchmark
{
    private const string Tenant = "bench";

    // The silo's defaults (RefreshOptions): margin = 20 % of the lifetime, between 5 s and 5 min.
    private static TimeSpan Margin(TimeSpan lifetime)
    {
        lifetime = lifetime < TimeSpan.Zero ? TimeSpan.Zero : lifetime;
        var margin = lifetime * 0.2;
        return margin < TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : margin > TimeSpan.FromMinutes(5) ? TimeSpan.FromMinutes(5) : margin;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var pg = Environment.GetEnvironmentVariable("PATIENTCONNECT_PG") is { Length: > 0 } fromEnv
            ? fromEnv
            : "Host=127.0.0.1;Port=55432;Username=patientconnect;Password=patientconnect;Database=patientconnect";
        var configuration = "Release";
        var connections = 100_000;
        var lifetime = TimeSpan.FromSeconds(120);
        var concurrency = 64;
        var maxSeconds = 900;
        var spread = TimeSpan.Zero;
        var silos = 1;
        var earlyWindow = TimeSpan.Zero;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--pg" when i + 1 < args.Length: pg = args[++i]; break;
                case "--configuration" when i + 1 < args.Length: configuration = args[++i]; break;
                case "--connections" when i + 1 < args.Length: connections = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--lifetime" when i + 1 < args.Length: lifetime = TimeSpan.FromSeconds(int.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                case "--concurrency" when i + 1 < args.Length: concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--max-seconds" when i + 1 < args.Length: maxSeconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--spread" when i + 1 < args.Length: spread = TimeSpan.FromSeconds(int.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                case "--silos" when i + 1 < args.Length: silos = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--early-window" when i + 1 < args.Length: earlyWindow = TimeSpan.FromSeconds(int.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                default:
                    Console.Error.WriteLine("usage: refresh [--pg ADMIN_CONNSTR] [--configuration Release|Debug] [--connections 100000] " +
                                            "[--lifetime 120] [--spread 0] [--concurrency 64] [--silos 1] [--max-seconds 900] [--early-window 0]");
                    return 2;
            }
        }
        var margin = Margin(lifetime);
        Console.WriteLine($"refresh benchmark: {connections:N0} connections on {silos} silo(s), access tokens of {lifetime.TotalSeconds:0} s " +
                          $"(refresh due {margin.TotalSeconds:0} s before expiry; first tokens spread over {spread.TotalSeconds:0} s), " +
                          $"{concurrency} concurrent activations, early window {earlyWindow.TotalSeconds:0} s, " +
                          $"{Environment.ProcessorCount} cores shared with everything else on the machine");

        await using var ehr = await FakeEhr.StartAsync(lifetime, connections);
        await using var stack = await RefreshStack.StartAsync(pg, configuration, ehr.FhirBase, silos, earlyWindow);
        using var client = await ConnectClientAsync(stack);
        var grains = client.Services.GetRequiredService<IClusterClient>();
        await stack.WaitForSilosAsync(grains, silos);
        var sourceId = Ids.SourceIdFor(ehr.FhirBase);
        var rssBefore = stack.SiloRssKb();
        Console.WriteLine($"  silo before: {stack.SiloMemory()}");

        // Registration: each Activate writes the grain state, records connection.active in the outbox and
        // registers the refresh reminder in Postgres.
        var watch = Stopwatch.StartNew();
        var failures = 0;
        var latencies = new double[connections];
        await Parallel.ForEachAsync(Enumerable.Range(0, connections), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, _) =>
        {
            var issued = DateTimeOffset.UtcNow;
            var expires = issued + lifetime - spread * Random.Shared.NextDouble();
            ehr.Issued(i, expires);
            var grant = new TokenGrant($"at-{i}-{Ids.RandomToken(10)}", FakeEhr.RefreshToken(i, issued, expires), expires,
                ["patient/Observation.read", "offline_access"], "bench-patient");
            var started = Stopwatch.GetTimestamp();
            try
            {
                await grains.GetGrain<IConnectionGrain>(Ids.NewConnectionId()).Activate(new ConnectionBinding(Tenant, $"p{i}", sourceId), grant);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref failures);
            }
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        });
        var registration = watch.Elapsed;
        var (reminders, scheduled) = await stack.CountScheduleAsync();
        Console.WriteLine($"  registration: {connections:N0} activations in {registration.TotalSeconds:F1} s = {connections / registration.TotalSeconds:F0}/s " +
                          $"(p50 {Percentile(latencies, 50):F1} ms, p99 {Percentile(latencies, 99):F1} ms per Activate), {failures} failed; " +
                          $"{scheduled:N0} refresh schedule rows, {reminders:N0} reminder rows");
        Console.WriteLine($"  silo after registration: {stack.SiloMemory()}; live connection activations {await LiveConnectionsAsync(grains)}");

        // Refresh: wait until every connection refreshed at least once (or the bound).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(maxSeconds) - registration;
        var peakPerSilo = new Dictionary<string, int>();
        while (ehr.DistinctRefreshed < connections - failures && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            var live = await LiveConnectionsBySiloAsync(grains);
            foreach (var (silo, count) in live) peakPerSilo[silo] = Math.Max(peakPerSilo.GetValueOrDefault(silo), count);
            Console.WriteLine($"    {watch.Elapsed.TotalSeconds,5:F0} s: {ehr.DistinctRefreshed:N0} connections refreshed, {ehr.Refreshes:N0} refresh calls; " +
                              $"live connection activations {string.Join(" + ", live.Values.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))}; {stack.SiloMemory()}");
        }
        var lags = ehr.Lags();
        var headroom = ehr.Headrooms();
        Console.WriteLine($"  refreshes: {ehr.Refreshes:N0} calls, {ehr.DistinctRefreshed:N0} of {connections:N0} connections refreshed; " +
                          $"{headroom.Count(h => h < 0):N0} came after the token had lapsed");
        if (lags.Length > 0)
        {
            Console.WriteLine($"  refresh lag behind the planned time (expiry − {margin.TotalSeconds:0} s): " +
                              $"p50 {Percentile(lags, 50):F0} ms, p90 {Percentile(lags, 90):F0} ms, p99 {Percentile(lags, 99):F0} ms, max {lags.Max():F0} ms");
            Console.WriteLine($"  time left on the old token at refresh: p1 {Percentile(headroom, 1) / 1000:F1} s, " +
                              $"p50 {Percentile(headroom, 50) / 1000:F1} s, min {headroom.Min() / 1000:F1} s");
        }
        // Give idle activations their collection age (2 min) to go, bounded by the run's own limit.
        var settle = DateTime.UtcNow + TimeSpan.FromSeconds(Math.Min(180, Math.Max(0, (deadline - DateTime.UtcNow).TotalSeconds)));
        while (DateTime.UtcNow < settle && await LiveConnectionsAsync(grains) > connections / 10)
        {
            await Task.Delay(TimeSpan.FromSeconds(10));
        }
        var rssEnd = stack.SiloRssKb();
        Console.WriteLine($"  silo at the end: {stack.SiloMemory()}; live connection activations {await LiveConnectionsAsync(grains)}; " +
                          $"memory per connection {(rssEnd - rssBefore) * 1024.0 / connections:F0} bytes of RSS (growth since start / connections)");
        // What the silos still hold, as opposed to what the server GC has not yet handed back to the OS.
        var management = grains.GetGrain<IManagementGrain>(0);
        await management.ForceGarbageCollection([.. (await management.GetHosts(onlyActive: true)).Keys]);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Console.WriteLine($"  silo at the end after a full GC (IManagementGrain.ForceGarbageCollection): {stack.SiloMemory()}");
        if (silos > 1)
        {
            Console.WriteLine($"  work per silo (peak live connection activations while refreshing): " +
                              string.Join(", ", peakPerSilo.Select(p => $"{p.Key} {p.Value:N0}")));
        }
        Console.WriteLine($"  lapsed tokens: {headroom.Count(h => h < 0):N0} refreshed after their expiry, {ehr.LapsedNow(DateTimeOffset.UtcNow):N0} past expiry and not refreshed now " +
                          $"({connections - failures - ehr.DistinctRefreshed:N0} connections not yet due or not yet refreshed when the run stopped)");
        await client.StopAsync();
        return failures == 0 && ehr.DistinctRefreshed >= connections ? 0 : 1;
    }

    private static async Task<int> LiveConnectionsAsync(IClusterClient grains) => (await LiveConnectionsBySiloAsync(grains)).Values.Sum();

    private static async Task<SortedDictionary<string, int>> LiveConnectionsBySiloAsync(IClusterClient grains)
    {
        var statistics = await grains.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        var bySilo = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in statistics)
        {
            var silo = s.SiloAddress.ToString();
            bySilo[silo] = bySilo.GetValueOrDefault(silo) + (s.GrainType.Contains("ConnectionGrain", StringComparison.Ordinal) ? s.ActivationCount : 0);
        }
        return bySilo;
    }

    private static double Percentile(double[] values, double p)
    {
        if (values.Length == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static async Task<IHost> ConnectClientAsync(RefreshStack stack)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client => client.UseBenchCluster(stack.ConnectionString, stack.ClusterId));
        var host = builder.Build();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                await host.StartAsync();
                return host;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }

    /// <summary>
    /// The EHR's token endpoint, minimal: discovery and refresh_token grants. The refresh token carries
    /// the connection's number and its access token's expiry, so each refresh is measured without state.
    /// </summary>
    private sealed class FakeEhr : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly TimeSpan _lifetime;
        private readonly ConcurrentBag<(double Lag, double Headroom)> _samples = [];
        private readonly ConcurrentDictionary<int, byte> _refreshed = new();
        // Per connection, the expiry (Unix ms) of the newest access token issued: a token lapses when it passes unrefreshed.
        private readonly long[] _expiries;
        private long _refreshes;

        private FakeEhr(WebApplication app, TimeSpan lifetime, string origin, int connections)
        {
            _app = app;
            _lifetime = lifetime;
            _expiries = new long[connections];
            FhirBase = origin + "/fhir";
        }

        public void Issued(int connection, DateTimeOffset expires) => Volatile.Write(ref _expiries[connection], expires.ToUnixTimeMilliseconds());

        public int LapsedNow(DateTimeOffset now)
        {
            var nowMs = now.ToUnixTimeMilliseconds();
            return _expiries.Count(e => e != 0 && e < nowMs);
        }

        public string FhirBase { get; }
        public long Refreshes => Interlocked.Read(ref _refreshes);
        public int DistinctRefreshed => _refreshed.Count;
        public double[] Lags() => _samples.Select(s => s.Lag).ToArray();
        public double[] Headrooms() => _samples.Select(s => s.Headroom).ToArray();

        public static string RefreshToken(int connection, DateTimeOffset issued, DateTimeOffset expires) =>
            $"rt.{connection}.{issued.ToUnixTimeMilliseconds()}.{expires.ToUnixTimeMilliseconds()}.{Ids.RandomToken(8)}";

        public static async Task<FakeEhr> StartAsync(TimeSpan lifetime, int connections)
        {
            var port = FreePorts.Next();
            var origin = $"http://127.0.0.1:{port}";
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
            var app = builder.Build();
            var ehr = new FakeEhr(app, lifetime, origin, connections);
            app.MapGet("/fhir/.well-known/smart-configuration", () => Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = ehr.FhirBase,
                ["authorization_endpoint"] = origin + "/authorize",
                ["token_endpoint"] = origin + "/token",
                ["revocation_endpoint"] = origin + "/revoke",
                ["code_challenge_methods_supported"] = new[] { "S256" },
                ["capabilities"] = new[] { "launch-standalone" },
            }));
            app.MapPost("/token", ehr.Token);
            app.MapPost("/revoke", () => Results.Ok());
            await app.StartAsync();
            return ehr;
        }

        private async Task<IResult> Token(HttpRequest request)
        {
            var form = await request.ReadFormAsync();
            var now = DateTimeOffset.UtcNow;
            var parts = form["refresh_token"].ToString().Split('.');
            if (form["grant_type"] != "refresh_token" || parts.Length != 5
                || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var connection)
                || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out var issuedMs)
                || !long.TryParse(parts[3], CultureInfo.InvariantCulture, out var expiresMs))
            {
                return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            }
            var expires = DateTimeOffset.FromUnixTimeMilliseconds(expiresMs);
            var planned = expires - Margin(expires - DateTimeOffset.FromUnixTimeMilliseconds(issuedMs));
            _samples.Add(((now - planned).TotalMilliseconds, (expires - now).TotalMilliseconds));
            _refreshed.TryAdd(connection, 0);
            Interlocked.Increment(ref _refreshes);
            var next = now + _lifetime;
            if (connection >= 0 && connection < _expiries.Length) Issued(connection, next);
            return Results.Json(new Dictionary<string, object>
            {
                ["access_token"] = "at-" + RandomNumberGenerator.GetHexString(32, lowercase: true),
                ["token_type"] = "Bearer",
                ["expires_in"] = (int)_lifetime.TotalSeconds,
                ["scope"] = "patient/Observation.read offline_access",
                // Rotating, like Cerner: the connection must store it for its next refresh to be measured.
                ["refresh_token"] = RefreshToken(connection, now, next),
            });
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    /// <summary>A fresh database, the schema, and silos whose directory has the fake EHR as its only source.</summary>
    private sealed class RefreshStack : IAsyncDisposable
    {
        private readonly string _admin;
        private readonly string _database;
        private readonly List<Process> _silos = [];

        private RefreshStack(string admin, string database, int silos)
        {
            _admin = admin;
            _database = database;
            // Each silo opens a few pools (Orleans, outbox, refresh schedule): several silos share max_connections (300).
            ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database, MaxPoolSize = silos == 1 ? 64 : 30 }.ConnectionString;
        }

        public string ConnectionString { get; }
        public string ClusterId => _database;

        public static async Task<RefreshStack> StartAsync(string admin, string configuration, string fhirBase, int silos, TimeSpan earlyWindow)
        {
            var database = "pc_refresh_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
            await using (var connection = new NpgsqlConnection(admin))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
                await create.ExecuteNonQueryAsync();
            }
            var stack = new RefreshStack(admin, database, silos);
            try
            {
                var dll = SiloDll(configuration);
                var env = new Dictionary<string, string>
                {
                    ["ConnectionStrings__Postgres"] = stack.ConnectionString,
                    ["Orleans__ClusterId"] = database,
                    ["Orleans__ServiceId"] = database,
                    ["PatientConnect__TokenEncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                    ["PatientConnect__AllowLoopbackHttp"] = "true",
                    ["PatientConnect__Outbound__AllowLoopback"] = "true",
                    ["PatientConnect__RateLimits__Enabled"] = "false",
                    // The simulated connections have no records: measure the token lifecycle alone.
                    ["PatientConnect__Refresh__StartSyncOnActivate"] = "false",
                    ["PatientConnect__Refresh__EarlyWindow"] = earlyWindow.ToString("c", CultureInfo.InvariantCulture),
                    ["Directory__Sources__0__Name"] = "Bench EHR",
                    ["Directory__Sources__0__Vendor"] = "cerner",
                    ["Directory__Sources__0__FhirBaseUrl"] = fhirBase,
                    ["Directory__Sources__0__ClientId"] = "bench",
                    ["Directory__Sources__0__AuthMethod"] = "none",
                    ["Logging__LogLevel__Default"] = "Warning",
                    ["DOTNET_ENVIRONMENT"] = "Production",
                };
                using (var migrate = Start(dll, ["--migrate-only"], env))
                {
                    await migrate.WaitForExitAsync();
                    if (migrate.ExitCode != 0) throw new InvalidOperationException("Silo --migrate-only failed.");
                }
                for (var i = 0; i < silos; i++)
                {
                    env["Orleans__SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture);
                    env["Orleans__GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture);
                    stack._silos.Add(Start(dll, [], env));
                }
                return stack;
            }
            catch
            {
                await stack.DisposeAsync();
                throw;
            }
        }

        /// <summary>Resident and peak memory of each silo process (Linux /proc).</summary>
        public string SiloMemory() => string.Join("; ", _silos.Select(silo =>
            silo.HasExited ? "silo not running" : $"RSS {Field(silo, "VmRSS") / 1024:N0} MB, peak RSS {Field(silo, "VmHWM") / 1024:N0} MB"));

        /// <summary>The silos' resident memory together, in KiB.</summary>
        public long SiloRssKb() => _silos.Where(s => !s.HasExited).Sum(s => Field(s, "VmRSS"));

        private static long Field(Process silo, string name)
        {
            var line = File.ReadAllLines($"/proc/{silo.Id}/status").FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[(name.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }

        public async Task WaitForSilosAsync(IClusterClient grains, int count)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while ((await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count < count && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }

        public async Task<(long Reminders, long Scheduled)> CountScheduleAsync()
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT (SELECT count(*) FROM orleansreminderstable WHERE serviceid = @service), (SELECT count(*) FROM pc_refresh_schedule)", connection);
            command.Parameters.AddWithValue("service", ClusterId);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (reader.GetInt64(0), reader.GetInt64(1));
        }

        private static Process Start(string dll, string[] args, Dictionary<string, string> env)
        {
            var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add(dll);
            foreach (var arg in args) info.ArgumentList.Add(arg);
            foreach (var (key, value) in env) info.Environment[key] = value;
            var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {dll}");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { Length: > 0 } line) Console.Error.WriteLine($"  [silo] {line}");
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }

        private static string SiloDll(string configuration)
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (!File.Exists(Path.Combine(dir.FullName, "Orleans.sln"))) continue;
                var path = Path.Combine(dir.FullName, "Silo", "bin", configuration, "net10.0", "PatientConnect.Silo.dll");
                if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found: dotnet build Silo -c {configuration}");
                return path;
            }
            throw new DirectoryNotFoundException("Orleans.sln not found above the benchmark.");
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var silo in _silos)
            {
                if (!silo.HasExited)
                {
                    silo.Kill(entireProcessTree: true);
                    await silo.WaitForExitAsync();
                }
                silo.Dispose();
            }
            // After a million connections an autovacuum worker ran longer than 30 s in it (and the run ended in an abort).
            await DatabaseDrop.DropAsync(_admin, _database, TimeSpan.FromMinutes(3),
                e => Console.Error.WriteLine($"  dropping {_database}: {e.MessageText}; retrying"));
        }
    }
}

using System.Diagnostics;
using Npgsql;

namespace PatientConnect.Benchmarks;

/// <summary>
/// How the costs of `sessions` grow with what is stored (issue 13): one request at a time, the latency of
/// a create (a new patient), of a GET of a session not yet in memory, and of a create for a patient with
/// a long history, plus the WAL bytes each create writes; read once with 1,000 stored sessions and once
/// more after the table is filled to --stored rows and one patient to --history past sessions. The
/// filler rows are copies of a real session's stored state (expired, so nothing is due), bulk-inserted.
/// </summary>
public sealed class SessionsGrowth(HttpClient http, string database, string run, string returnUrl)
{
    private const int Operations = 300;
    private readonly string _historyPatient = $"bench-{run}-history";
    private long _filled;
    private int _historyFilled;
    private readonly HashSet<string> _fetched = [];

    public sealed record Reading(string Label, long StoredRows, int HistoryRows,
        Latency Create, Latency ColdGet, Latency HistoryCreate, Latency OnePastCreate, double WalPerCreate, double WalPerHistoryCreate, double StateBytes);

    public sealed record Latency(double P50, double P99);

    public async Task<Reading> MeasureAsync(string label)
    {
        await using var source = NpgsqlDataSource.Create(database);
        if (label == "baseline")
        {
            // A fresh stack runs its first requests through the JIT and cold pools: warm every path first,
            // or the baseline would look slow and the growth ratios good for the wrong reason.
            Console.Write("growth, warming up ... ");
            var warm = new List<string>();
            for (var i = 0; i < 200; i++)
            {
                if (await SessionsBenchmark.CreateAsync(http, $"bench-{run}-warm-{i}", returnUrl, i) is { } id) warm.Add(id);
            }
            foreach (var id in warm) await SessionsBenchmark.OkAsync(http, $"v1/patient-sessions/{id}", CancellationToken.None);
            Console.WriteLine($"{warm.Count} sessions");
            // One past session for the history patient, and the table topped up to 1,000 sessions.
            await SessionsBenchmark.CreateAsync(http, _historyPatient, returnUrl, 0);
            _historyFilled = 1;
            var rows = await ScalarAsync<long>(source, "SELECT count(*) FROM pc_patient_sessions");
            if (rows < 1_000) await FillRowsAsync(source, 1_000 - rows);
        }
        // Patients with exactly one past session, one for each create of the comparison below.
        var onePast = new string[Operations];
        for (var i = 0; i < Operations; i++)
        {
            onePast[i] = $"bench-{run}-{label}-one-{i}";
            await SessionsBenchmark.CreateAsync(http, onePast[i], returnUrl, i);
        }
        // Both readings start right after a checkpoint: the first change of a page after one writes the
        // whole page to the WAL, and that should weigh the same in both.
        await CheckpointAsync(source);
        Console.WriteLine($"growth, {label}:");
        var stored = await ScalarAsync<long>(source, "SELECT count(*) FROM pc_patient_sessions");
        var n = 0;

        // Interleaved, so the shared machine's noise falls on the three alike: a new patient, the patient
        // with the long history, and a patient with one past session.
        var fresh = new List<double>(Operations);
        var history = new List<double>(Operations);
        var one = new List<double>(Operations);
        for (var i = 0; i < Operations; i++)
        {
            await TimeAsync(fresh, () => SessionsBenchmark.CreateAsync(http, $"bench-{run}-{label}-{Interlocked.Increment(ref n)}", returnUrl, n));
            await TimeAsync(history, () => SessionsBenchmark.CreateAsync(http, _historyPatient, returnUrl, Interlocked.Increment(ref n)));
            await TimeAsync(one, () => SessionsBenchmark.CreateAsync(http, onePast[i], returnUrl, Interlocked.Increment(ref n)));
        }
        var create = Summarize("  create, new patient", fresh);
        var historyCreate = Summarize($"  create, patient with {_historyFilled:N0} past sessions", history);
        var oneCreate = Summarize("  create, patient with 1 past session", one);

        // Interleaved as well, so the pages a first create dirties since the checkpoint weigh on both alike.
        const int walOperations = 100;
        long walFresh = 0, walHistory = 0;
        for (var i = 0; i < walOperations; i++)
        {
            var before = await WalAsync(source);
            await SessionsBenchmark.CreateAsync(http, $"bench-{run}-{label}-wal-{i}", returnUrl, i);
            var between = await WalAsync(source);
            await SessionsBenchmark.CreateAsync(http, _historyPatient, returnUrl, i);
            walFresh += between - before;
            walHistory += await WalAsync(source) - between;
        }
        var walPerCreate = (double)walFresh / walOperations;
        var walPerHistory = (double)walHistory / walOperations;

        // Sessions no request has touched yet: each GET activates its grain, which reads its row.
        var cold = new Queue<string>();
        await using (var pick = source.CreateCommand(
                         "SELECT session_id FROM pc_patient_sessions WHERE patient_id LIKE 'bench-filler-%' ORDER BY random() LIMIT 2000"))
        {
            await using var reader = await pick.ExecuteReaderAsync();
            while (await reader.ReadAsync()) if (!_fetched.Contains(reader.GetString(0))) cold.Enqueue(reader.GetString(0));
        }
        var coldGet = await SequentialAsync("  GET of a session not in memory", async () =>
            cold.TryDequeue(out var id) && _fetched.Add(id) && await SessionsBenchmark.OkAsync(http, $"v1/patient-sessions/{id}", CancellationToken.None));

        var stateBytes = await ScalarAsync<double>(source,
            "SELECT coalesce(avg(pg_column_size(s.*)), 0)::float8 FROM (SELECT * FROM pc_patient_sessions WHERE patient_id LIKE 'bench-%' AND patient_id NOT LIKE 'bench-filler-%' LIMIT 500) s");
        return new Reading(label, stored, _historyFilled, create, coldGet, historyCreate, oneCreate, walPerCreate, walPerHistory, stateBytes);
    }

    /// <summary>Fills the table to <paramref name="stored"/> sessions and the history patient to <paramref name="history"/>.</summary>
    public async Task FillAsync(int stored, int history)
    {
        await using var source = NpgsqlDataSource.Create(database);
        var clock = Stopwatch.StartNew();
        if (history > _historyFilled)
        {
            await FillRowsAsync(source, history - _historyFilled, _historyPatient);
            _historyFilled = history;
        }
        var rows = await ScalarAsync<long>(source, "SELECT count(*) FROM pc_patient_sessions");
        if (rows < stored) await FillRowsAsync(source, stored - rows);
        // Vacuumed and analyzed now, as a table that grew over months would be: otherwise autovacuum
        // works through the fresh million rows during the next reading and is measured with it.
        await using (var vacuum = source.CreateCommand("VACUUM (ANALYZE) pc_patient_sessions"))
        {
            vacuum.CommandTimeout = 600;
            await vacuum.ExecuteNonQueryAsync();
        }
        Console.WriteLine($"filled to {await ScalarAsync<long>(source, "SELECT count(*) FROM pc_patient_sessions"):N0} stored sessions " +
                          $"({history:N0} for one patient) in {clock.Elapsed.TotalSeconds:0} s");
    }

    public void Print(Reading small, Reading grown)
    {
        Console.WriteLine();
        Console.WriteLine("cost growth (one request at a time, p50 / p99 ms):");
        Console.WriteLine($"{"",-44} {small.StoredRows,14:N0} stored {grown.StoredRows,14:N0} stored {"ratio p50",10} {"goal",5}");
        Row("create, new patient", small.Create, grown.Create);
        Row("GET of a session not in memory", small.ColdGet, grown.ColdGet);
        // The history comparison is within one reading (interleaved): the long history vs one past session.
        Console.WriteLine($"{"create, patient with 10k vs 1 past session",-44} {grown.OnePastCreate.P50,8:0.00} / {grown.OnePastCreate.P99,6:0.00} " +
                          $"{grown.HistoryCreate.P50,8:0.00} / {grown.HistoryCreate.P99,6:0.00}       {grown.HistoryCreate.P50 / grown.OnePastCreate.P50,10:0.00} {1.2,5:0.0}  " +
                          $"{(grown.HistoryCreate.P50 <= 1.2 * grown.OnePastCreate.P50 ? "met" : "MISS")}   (1 past | {grown.HistoryRows:N0} past, same reading)");
        // History is compared within one reading (same table, same time since the checkpoint); across the
        // readings the table grows, and the first change of each of its index pages after a checkpoint writes
        // that page whole, which is what the second line shows.
        var historyRatio = grown.WalPerHistoryCreate / grown.WalPerCreate;
        Console.WriteLine($"WAL bytes per create, {grown.StoredRows:N0} stored: patient with {grown.HistoryRows:N0} past sessions {grown.WalPerHistoryCreate:N0}, " +
                          $"new patient {grown.WalPerCreate:N0} (ratio {historyRatio:0.00}, goal ≤ 1.2: {(historyRatio <= 1.2 ? "independent of history" : "MISS")})");
        Console.WriteLine($"WAL bytes per create with the table's size: new patient {small.WalPerCreate:N0} → {grown.WalPerCreate:N0}; " +
                          $"patient with {small.HistoryRows:N0} → {grown.HistoryRows:N0} past sessions {small.WalPerHistoryCreate:N0} → {grown.WalPerHistoryCreate:N0}; " +
                          $"stored row ≈ {grown.StateBytes:N0} B (each reading right after a checkpoint: first changes of pages write them whole)");

        static void Row(string name, Latency a, Latency b) =>
            Console.WriteLine($"{name,-44} {a.P50,8:0.00} / {a.P99,6:0.00} {b.P50,8:0.00} / {b.P99,6:0.00}       {b.P50 / a.P50,10:0.00} {1.2,5:0.0}  {(b.P50 <= 1.2 * a.P50 ? "met" : "MISS")}");
    }

    private async Task FillRowsAsync(NpgsqlDataSource source, long count, string? patient = null)
    {
        // In batches, each its own transaction: a million rows in one would hold one huge snapshot.
        const int batch = 100_000;
        for (long done = 0; done < count; done += batch)
        {
            var take = Math.Min(batch, count - done);
            await using var insert = source.CreateCommand("""
                INSERT INTO pc_patient_sessions (session_id, tenant_id, patient_id, created_at, expires_at, status, due_at, version, state)
                SELECT 'ps_' || translate(md5(@run || ':' || (@offset + g)::text), '0189', 'wxyz'),
                       t.tenant_id,
                       coalesce(@patient, 'bench-filler-' || ((@offset + g) / 10)::text),
                       now() - make_interval(secs => (@offset + g)::float8),
                       now() - make_interval(secs => (@offset + g)::float8) + interval '30 minutes',
                       2, NULL, 1, t.state
                FROM generate_series(1, @take) g,
                     (SELECT tenant_id, state FROM pc_patient_sessions WHERE status = 0 ORDER BY created_at LIMIT 1) t
                ON CONFLICT (session_id) DO NOTHING
                """);
            insert.Parameters.AddWithValue("run", run + (patient ?? "f"));
            insert.Parameters.AddWithValue("offset", _filled);
            insert.Parameters.AddWithValue("take", (int)take);
            insert.Parameters.AddWithValue("patient", NpgsqlTypes.NpgsqlDbType.Text, (object?)patient ?? DBNull.Value);
            insert.CommandTimeout = 600;
            await insert.ExecuteNonQueryAsync();
            _filled += take;
        }
    }

    private static async Task TimeAsync(List<double> into, Func<Task<string?>> create)
    {
        var started = Stopwatch.GetTimestamp();
        if (await create() is not null) into.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private static Latency Summarize(string name, List<double> latencies)
    {
        latencies.Sort();
        var result = latencies.Count == 0
            ? new Latency(double.NaN, double.NaN)
            : new Latency(latencies[(int)Math.Ceiling(0.5 * latencies.Count) - 1], latencies[(int)Math.Ceiling(0.99 * latencies.Count) - 1]);
        Console.WriteLine($"{name}: p50 {result.P50:0.00} ms, p99 {result.P99:0.00} ms{(latencies.Count < Operations ? $", {Operations - latencies.Count} failed" : "")}");
        return result;
    }

    private static async Task CheckpointAsync(NpgsqlDataSource source)
    {
        await using var checkpoint = source.CreateCommand("CHECKPOINT");
        try
        {
            await checkpoint.ExecuteNonQueryAsync();
        }
        catch (PostgresException)
        {
            // CHECKPOINT needs pg_checkpoint rights; without them the readings just run beside the server's own.
        }
    }

    private static async Task<Latency> SequentialAsync(string name, Func<Task<bool>> operation)
    {
        Console.Write($"{name} ... ");
        var latencies = new List<double>(Operations);
        var failed = 0;
        for (var i = 0; i < Operations; i++)
        {
            var started = Stopwatch.GetTimestamp();
            if (await operation()) latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            else failed++;
        }
        latencies.Sort();
        var result = latencies.Count == 0
            ? new Latency(double.NaN, double.NaN)
            : new Latency(latencies[(int)Math.Ceiling(0.5 * latencies.Count) - 1], latencies[(int)Math.Ceiling(0.99 * latencies.Count) - 1]);
        Console.WriteLine($"p50 {result.P50:0.00} ms, p99 {result.P99:0.00} ms{(failed > 0 ? $", {failed} failed" : "")}");
        return result;
    }

    private static async Task<long> WalAsync(NpgsqlDataSource source) =>
        await ScalarAsync<long>(source, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint");

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource source, string sql)
    {
        await using var command = source.CreateCommand(sql);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }
}

using System.Diagnostics;

namespace PatientConnect.Grains.Sync;

/// <summary>Where a run's time went (summed over concurrent steps), for the line logged when it ends.</summary>
internal sealed class SyncTimings
{
    private long _storeTicks;
    private long _fetchWaitTicks;
    private long _writeTicks;

    public static long Now => Stopwatch.GetTimestamp();

    public int Batches { get; private set; }

    public long StoreMs => Milliseconds(_storeTicks);
    public long FetchWaitMs => Milliseconds(_fetchWaitTicks);
    public long WriteMs => Milliseconds(_writeTicks);

    public void Reset()
    {
        _storeTicks = _fetchWaitTicks = _writeTicks = 0;
        Batches = 0;
    }

    /// <summary>A step waited from <paramref name="started"/> until its rows were committed.</summary>
    public void Stored(long started) => _storeTicks += Stopwatch.GetTimestamp() - started;

    /// <summary>A step waited from <paramref name="started"/> for the source's answer.</summary>
    public void FetchWait(long started) => _fetchWaitTicks += Stopwatch.GetTimestamp() - started;

    /// <summary>A batch write that began at <paramref name="started"/> ended (committed or not).</summary>
    public void Written(long started, bool committed)
    {
        _writeTicks += Stopwatch.GetTimestamp() - started;
        if (committed) Batches++;
    }

    private static long Milliseconds(long ticks) => (long)Stopwatch.GetElapsedTime(0, ticks).TotalMilliseconds;
}

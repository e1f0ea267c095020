namespace PatientConnect.Grains.Tests;

/// <summary>A clock the tests move by hand; grains read it through TimeProvider.</summary>
public sealed class ManualClock : TimeProvider
{
    // Starts at the real time: tokens the fake EHR signs with the real clock must look current.
    private long _ticks = DateTimeOffset.UtcNow.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

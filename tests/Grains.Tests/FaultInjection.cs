using System.Reflection;

namespace PatientConnect.Grains.Tests;

/// <summary>
/// Fails chosen grain calls on the test silo, standing in for a silo lost or a database gone between
/// two steps of a flow. Tests run one at a time (see ClusterFixture), so the counters are shared.
/// </summary>
public sealed class FaultInjection : IIncomingGrainCallFilter
{
    private static readonly Dictionary<string, int> Remaining = new(StringComparer.Ordinal);
    private static readonly Dictionary<string, Func<Exception>> Exceptions = new(StringComparer.Ordinal);

    /// <summary>The next <paramref name="times"/> calls of <c>Interface.Method</c> throw (by default an InvalidOperationException).</summary>
    public static IDisposable Fail(string interfaceMethod, int times, Func<Exception>? exception = null)
    {
        lock (Remaining)
        {
            Remaining[interfaceMethod] = times;
            if (exception is not null) Exceptions[interfaceMethod] = exception;
        }
        return new Reset(interfaceMethod);
    }

    public Task Invoke(IIncomingGrainCallContext context)
    {
        var name = $"{context.InterfaceMethod?.DeclaringType?.Name}.{context.InterfaceMethod?.Name}";
        lock (Remaining)
        {
            if (Remaining.TryGetValue(name, out var left) && left > 0)
            {
                Remaining[name] = left - 1;
                throw Exceptions.TryGetValue(name, out var make) ? make() : new InvalidOperationException($"Injected failure of {name}.");
            }
        }
        return context.Invoke();
    }

    private sealed class Reset(string name) : IDisposable
    {
        public void Dispose()
        {
            lock (Remaining)
            {
                Remaining.Remove(name);
                Exceptions.Remove(name);
            }
        }
    }
}

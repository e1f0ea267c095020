using System.Collections.Concurrent;

namespace PatientConnect.Silo.Logging;

/// <summary>
/// Wraps a logger provider so that one kind of warning or error (category and message template) is
/// written at most <see cref="PerWindow"/> times per <see cref="Window"/>; the rest are counted and reported in
/// one line when the kind is next written. During a database outage every grain call, reminder tick
/// and membership refresh fails the same way: without this, 15 s of outage wrote ~19 MB per silo.
/// </summary>
public sealed class RateLimitedLoggerProvider(ILoggerProvider inner, TimeProvider time) : ILoggerProvider, ISupportExternalScope
{
    // The logger factory hands scopes (trace ids, session and connection ids) to providers that ask
    // for them: the wrapped provider must still get them.
    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        if (inner is ISupportExternalScope scoped) scoped.SetScopeProvider(scopeProvider);
    }

    public const int PerWindow = 10;
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Budget> _budgets = new(StringComparer.Ordinal);

    public ILogger CreateLogger(string categoryName) => new Limited(inner.CreateLogger(categoryName), categoryName, this);

    public void Dispose() => inner.Dispose();

    private sealed class Budget
    {
        public long WindowStart;
        public int Written;
        public int Suppressed;
    }

    /// <summary>Whether to write now, and how many of the kind were dropped since the last one written.</summary>
    private (bool Write, int Dropped) Admit(string key)
    {
        var budget = _budgets.GetOrAdd(key, _ => new Budget { WindowStart = time.GetTimestamp() });
        lock (budget)
        {
            if (time.GetElapsedTime(budget.WindowStart) >= Window)
            {
                budget.WindowStart = time.GetTimestamp();
                budget.Written = 0;
            }
            if (budget.Written >= PerWindow)
            {
                budget.Suppressed++;
                return (false, 0);
            }
            budget.Written++;
            var dropped = budget.Suppressed;
            budget.Suppressed = 0;
            return (true, dropped);
        }
    }

    private sealed class Limited(ILogger inner, string category, RateLimitedLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel)) return;
            // Ordinary traffic (one information line per session opened, say) is never thinned out:
            // only warnings and errors, which is what an outage repeats, are limited.
            if (logLevel < LogLevel.Warning)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }
            var template = state is IReadOnlyList<KeyValuePair<string, object?>> values && values.Count > 0
                && values[^1].Key == "{OriginalFormat}" ? values[^1].Value as string : null;
            var (write, dropped) = owner.Admit($"{category}|{eventId.Id}|{template ?? exception?.GetType().Name}");
            if (!write) return;
            if (dropped > 0)
            {
                inner.Log(LogLevel.Warning, eventId, $"{dropped} more message(s) like the next one were not written in the last {Window.TotalSeconds:0} s (log rate limit).", null, static (m, _) => m);
            }
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}

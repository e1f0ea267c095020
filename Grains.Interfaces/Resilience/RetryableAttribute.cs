namespace PatientConnect.Resilience;

/// <summary>
/// Marks a grain method that is safe to call again when a call fails for a cluster reason (a silo
/// died or is leaving, a message was rejected, the response timed out): running it twice has the
/// same effect as once. Callers' outgoing call filters retry such calls within a bounded time; every
/// other call fails fast, so nothing that must happen once is ever repeated behind the caller's back.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class RetryableAttribute : Attribute;

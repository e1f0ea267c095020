namespace PatientConnect.Resilience;

/// <summary>
/// A dependency of the cluster (Postgres for grain state, reminders, records or the outbox) did not
/// answer. Raised by the silo in place of the provider's own exception, which often cannot cross the
/// grain boundary (it arrived in the Api as a codec error and a 500); the Api answers 503 with
/// Retry-After. The message never carries the provider's text: it can quote SQL or connection details.
/// </summary>
[GenerateSerializer, Alias("pc.ServiceUnavailableException")]
public sealed class ServiceUnavailableException : Exception
{
    public ServiceUnavailableException()
        : this("The service's database is not answering.")
    {
    }

    public ServiceUnavailableException(string message)
        : base(message)
    {
    }

    public ServiceUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>What failed, in a word: "storage", "reminders", "records", …</summary>
    [Id(0)] public string? Dependency { get; init; }
}

namespace PatientConnect.ServiceDefaults;

/// <summary>The activity sources and meters every process listens to, by name (no Orleans or grain types here).</summary>
public static class TelemetryNames
{
    /// <summary>Our own meter and activity source (product metrics, sync spans); owned by Grains/Telemetry.</summary>
    public const string PatientConnect = "PatientConnect";

    /// <summary>Orleans 10: grain calls of the application, and the runtime's own (membership, reminders, directory).</summary>
    public static readonly string[] OrleansActivitySources = ["Microsoft.Orleans.Application", "Microsoft.Orleans.Runtime"];

    public const string OrleansMeter = "Microsoft.Orleans";
}

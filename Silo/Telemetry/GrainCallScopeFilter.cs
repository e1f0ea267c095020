using System.Diagnostics;

namespace PatientConnect.Silo.Telemetry;

/// <summary>
/// Puts the patient session or connection a grain call is about into the log scope and onto the
/// call's span, so a JSON log line or a trace can be found by ps_/conn_ id. Ids only: they are not
/// secrets, and nothing of the call's arguments is touched.
/// </summary>
public sealed class GrainCallScopeFilter(ILogger<GrainCallScopeFilter> logger) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var key = context.TargetId.Key.ToString();
        var name = key switch
        {
            _ when key.StartsWith("ps_", StringComparison.Ordinal) => "patient_session_id",
            _ when key.StartsWith("conn_", StringComparison.Ordinal) => "connection_id",
            _ => null,
        };
        if (name is null)
        {
            await context.Invoke();
            return;
        }
        Activity.Current?.SetTag("patientconnect." + name, key);
        using (logger.BeginScope(new KeyValuePair<string, object>[] { new(name, key) }))
        {
            await context.Invoke();
        }
    }
}

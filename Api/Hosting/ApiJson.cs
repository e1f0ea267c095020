namespace PatientConnect.Api.Hosting;

/// <summary>
/// Timestamps as the API writes them: UTC <see cref="DateTime"/>, so they serialize as RFC 3339 with Z.
/// The naming rules are <see cref="Contract.ContractJson"/>'s.
/// </summary>
public static class ApiJson
{
    public static DateTime Utc(DateTimeOffset value) => value.UtcDateTime;

    public static DateTime? Utc(DateTimeOffset? value) => value?.UtcDateTime;
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace PatientConnect.Contract;

/// <summary>
/// The one JSON shape of CONTRACT.md, for every writer of it (the Api's answers, stored idempotent
/// replies, webhook event bodies): snake_case names, snake_case enum strings (refresh_failed), nulls
/// written out. Timestamps are carried as UTC <see cref="DateTime"/> so they serialize as RFC 3339 with Z.
/// </summary>
public static class ContractJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Applies the contract's naming to options someone else owns (ASP.NET Core's HTTP JSON options).</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

using System.Text.Json;
using SandboxEhr.Hospitals;

namespace SandboxEhr.Hooks;

/// <summary>
/// A partial update of <see cref="HospitalSettings"/> from snake_case JSON. Fields left out keep their value;
/// an unknown field or an out-of-range value fails the whole change (nothing is applied).
/// </summary>
public static class SettingsPatch
{
    public static (HospitalSettings Settings, Dictionary<string, string[]> Errors) Apply(HospitalSettings current, JsonElement patch)
    {
        var errors = new Dictionary<string, string[]>();
        if (patch.ValueKind != JsonValueKind.Object)
        {
            errors["$"] = ["expected a JSON object of settings"];
            return (current, errors);
        }

        var next = current;
        foreach (var field in patch.EnumerateObject())
        {
            var value = field.Value;
            void Fail(string message) => errors[field.Name] = [message];
            switch (field.Name)
            {
                case "access_token_lifetime_seconds":
                    if (Int(value, 1, 86_400) is { } lifetime) next = next with { AccessTokenLifetimeSeconds = lifetime };
                    else Fail("an integer from 1 to 86400");
                    break;
                case "refresh":
                    if (value.ValueKind == JsonValueKind.String && value.GetString() is "ok" or "invalid_grant")
                        next = next with { Refresh = value.GetString()! };
                    else Fail("\"ok\" or \"invalid_grant\"");
                    break;
                case "rate_limit_every_n":
                    if (Int(value, 0, 1_000_000) is { } every) next = next with { RateLimitEveryN = every };
                    else Fail("an integer from 0 (off) to 1000000");
                    break;
                case "error_rate":
                    if (value.ValueKind == JsonValueKind.Number && value.GetDouble() is >= 0 and <= 1 and var rate)
                        next = next with { ErrorRate = rate };
                    else Fail("a number from 0 to 1");
                    break;
                case "latency_ms":
                    if (Int(value, 0, 60_000) is { } latency) next = next with { LatencyMs = latency };
                    else Fail("an integer from 0 to 60000");
                    break;
                case "page_size":
                    if (value.ValueKind == JsonValueKind.Null) next = next with { PageSize = null };
                    else if (Int(value, 1, 1000) is { } size) next = next with { PageSize = size };
                    else Fail("null (the profile's own) or an integer from 1 to 1000");
                    break;
                case "authorization_code_lifetime_seconds":
                    if (Int(value, 1, 600) is { } codeLifetime) next = next with { AuthorizationCodeLifetimeSeconds = codeLifetime };
                    else Fail("an integer from 1 to 600");
                    break;
                default:
                    Fail("unknown setting");
                    break;
            }
        }
        return (errors.Count == 0 ? next : current, errors);
    }

    private static int? Int(JsonElement value, int min, int max) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= min && n <= max ? n : null;
}

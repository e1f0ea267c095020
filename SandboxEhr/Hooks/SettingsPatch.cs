using System.Text.Json;
using SandboxEhr.Fhir;
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
                case "refresh_token_lifetime_seconds":
                    if (value.ValueKind == JsonValueKind.Null) next = next with { RefreshTokenLifetimeSeconds = null };
                    else if (Int(value, 1, 31_536_000) is { } refreshLifetime) next = next with { RefreshTokenLifetimeSeconds = refreshLifetime };
                    else Fail("null (refresh tokens do not expire) or an integer from 1 to 31536000");
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
                case "revocation_latency_ms":
                    if (Int(value, 0, 60_000) is { } revocationLatency) next = next with { RevocationLatencyMs = revocationLatency };
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
                case "fail_searches":
                    if (value.ValueKind == JsonValueKind.Null) next = next with { FailSearches = null };
                    else if (FailSearches(value) is { } failures) next = next with { FailSearches = failures.Count == 0 ? null : failures };
                    else Fail($"null or {{}} (off), or an object mapping a resource type the sandbox serves, or \"*\", to one of {string.Join(", ", ForcedStatuses)}");
                    break;
                case "next_link_base":
                    if (value.ValueKind == JsonValueKind.Null) next = next with { NextLinkBase = null };
                    else if (AbsoluteHttpUrl(value) is { } linkBase) next = next with { NextLinkBase = linkBase };
                    else Fail("null (the hospital's own FHIR base) or an absolute http(s) URL without query or fragment");
                    break;
                default:
                    Fail("unknown setting");
                    break;
            }
        }
        return (errors.Count == 0 ? next : current, errors);
    }

    /// <summary>The statuses a forced failure may answer: the refusals a sync must tell apart.</summary>
    public static readonly IReadOnlyList<int> ForcedStatuses = [400, 401, 403, 404, 500];

    /// <summary>Every type some profile serves: a misspelt type would silently force nothing.</summary>
    private static readonly HashSet<string> KnownTypes =
        new[] { VendorProfile.Epic, VendorProfile.Cerner, VendorProfile.Payer }.SelectMany(p => p.AllTypes).ToHashSet(StringComparer.Ordinal);

    private static Dictionary<string, int>? FailSearches(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            return null;
        var failures = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Name != "*" && !KnownTypes.Contains(entry.Name))
                return null;
            if (Int(entry.Value, 100, 599) is not { } status || !ForcedStatuses.Contains(status))
                return null;
            failures[entry.Name] = status;
        }
        return failures;
    }

    private static string? AbsoluteHttpUrl(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String
            || !Uri.TryCreate(value.GetString(), UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https")
            || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
            return null;
        return uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    private static int? Int(JsonElement value, int min, int max) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= min && n <= max ? n : null;
}

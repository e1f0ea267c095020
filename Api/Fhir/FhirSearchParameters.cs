using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PatientConnect.Api.Fhir;

/// <summary>
/// The search parameters the /fhir routes understand, parsed from the query string. Malformed values
/// of these are a 400; parameters this server does not know are ignored, as FHIR search specifies, and
/// reported back (or refused under <c>Prefer: handling=strict</c>).
/// </summary>
public sealed partial record FhirSearchParameters(
    IReadOnlyList<string>? Ids,
    DateTimeOffset? LastUpdatedFrom,
    DateTimeOffset? LastUpdatedBefore,
    string? ConnectionId,
    int Count,
    string? Cursor,
    bool IncludeTotal,
    IReadOnlyList<string> Applied,
    IReadOnlyList<string> Ignored)
{
    public const int DefaultCount = 50;
    public const string CursorParameter = "_cursor";
    public const string ConnectionParameter = "connection";

    /// <summary>Parameters that change nothing in a JSON-only server and are neither applied nor reported.</summary>
    private static readonly HashSet<string> Harmless = new(StringComparer.Ordinal) { "_pretty" };

    /// <summary>The query string of the self link: the parameters as applied, in a stable order.</summary>
    public string SelfQuery => string.Join('&', Applied);

    public static bool TryParse(IQueryCollection query, int maxCount, out FhirSearchParameters parameters, out (string Name, string Message) error)
    {
        parameters = null!;
        error = default;
        HashSet<string>? ids = null;
        DateTimeOffset? from = null, before = null;
        string? connection = null, cursor = null;
        int count = DefaultCount;
        var total = true;
        var applied = new List<string>();
        var ignored = new List<string>();

        foreach (var (name, values) in query.OrderBy(q => q.Key, StringComparer.Ordinal))
        {
            foreach (var raw in values.OfType<string>())
            {
                switch (name)
                {
                    case "_id":
                        var list = raw.Split(',', StringSplitOptions.TrimEntries);
                        if (list.Any(id => !FhirId().IsMatch(id)))
                        {
                            error = (name, "must be a comma-separated list of FHIR ids ([A-Za-z0-9-.]{1,64}).");
                            return false;
                        }
                        // Repeated parameters are ANDed, the values of one are ORed (FHIR search 3.2.1.5.5).
                        ids = ids is null ? new HashSet<string>(list, StringComparer.Ordinal) : [.. ids.Intersect(list, StringComparer.Ordinal)];
                        applied.Add(Pair(name, raw));
                        break;
                    case "_lastUpdated":
                        if (!TryParseDateBound(raw, out var lower, out var upper, out var message))
                        {
                            error = (name, message);
                            return false;
                        }
                        if (lower is { } l && (from is null || l > from)) from = l;
                        if (upper is { } u && (before is null || u < before)) before = u;
                        applied.Add(Pair(name, raw));
                        break;
                    case ConnectionParameter:
                        if (!PatientConnect.Ids.IsValid(raw, PatientConnect.Ids.ConnectionPrefix) || (connection is not null && connection != raw))
                        {
                            error = (name, "must be one connection id (conn_…).");
                            return false;
                        }
                        connection = raw;
                        applied.Add(Pair(name, raw));
                        break;
                    case "_count":
                        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out count))
                        {
                            error = (name, "must be a non-negative integer.");
                            return false;
                        }
                        // A server may return fewer than asked (FHIR search 3.2.1.7.3): larger values are capped.
                        count = Math.Min(count, maxCount);
                        applied.Add(Pair(name, count.ToString(CultureInfo.InvariantCulture)));
                        break;
                    case "_total":
                        if (raw is not ("none" or "estimate" or "accurate"))
                        {
                            error = (name, "must be none, estimate or accurate.");
                            return false;
                        }
                        total = raw != "none";
                        applied.Add(Pair(name, raw));
                        break;
                    case "_format":
                        if (raw is not ("json" or "application/json" or "application/fhir+json" or "application/json+fhir"))
                        {
                            error = (name, "only JSON is served (json, application/fhir+json).");
                            return false;
                        }
                        break;
                    case CursorParameter:
                        if (raw.Length is 0 or > 1024 || raw.Any(char.IsControl))
                        {
                            error = (name, "is not a cursor this server issued.");
                            return false;
                        }
                        cursor = raw;
                        break;
                    default:
                        if (!Harmless.Contains(name)) ignored.Add(name);
                        break;
                }
            }
        }
        parameters = new FhirSearchParameters(ids?.Order(StringComparer.Ordinal).ToList(), from, before, connection, count, cursor, total,
            applied, ignored.Distinct(StringComparer.Ordinal).ToList());
        return true;
    }

    private static string Pair(string name, string value) => $"{name}={Uri.EscapeDataString(value)}";

    /// <summary>
    /// A date search value is a range (its precision): [start, end). The prefix compares the stored
    /// instant with that range (FHIR search 3.2.1.5.9): eq inside, ge ≥ start, gt ≥ end, le &lt; end, lt &lt; start.
    /// </summary>
    public static bool TryParseDateBound(string raw, out DateTimeOffset? from, out DateTimeOffset? before, out string message)
    {
        from = before = null;
        message = "must be a FHIR date or dateTime with an optional prefix eq, ge, gt, le, lt, sa or eb (e.g. ge2024-01-31).";
        var prefix = raw.Length > 2 && char.IsAsciiLetterLower(raw[0]) && char.IsAsciiLetterLower(raw[1]) ? raw[..2] : "eq";
        var value = raw.Length > 2 && char.IsAsciiLetterLower(raw[0]) ? raw[2..] : raw;
        // An unencoded '+' of an offset arrives as a space.
        value = value.Replace(' ', '+');
        if (!TryParseRange(value, out var start, out var end)) return false;
        switch (prefix)
        {
            case "eq": from = start; before = end; return true;
            case "ge": from = start; return true;
            case "gt" or "sa": from = end; return true;
            case "le": before = end; return true;
            case "lt" or "eb": before = start; return true;
            case "ne" or "ap":
                message = $"the prefix '{prefix}' is not supported here; use eq, ge, gt, le, lt, sa or eb.";
                return false;
            default: return false;
        }
    }

    private static bool TryParseRange(string value, out DateTimeOffset start, out DateTimeOffset end)
    {
        start = end = default;
        var match = DateValue().Match(value);
        if (!match.Success) return false;
        try
        {
            var year = int.Parse(match.Groups["y"].Value, CultureInfo.InvariantCulture);
            var month = match.Groups["m"].Success ? int.Parse(match.Groups["m"].Value, CultureInfo.InvariantCulture) : 1;
            var day = match.Groups["d"].Success ? int.Parse(match.Groups["d"].Value, CultureInfo.InvariantCulture) : 1;
            if (!match.Groups["h"].Success)
            {
                // A date without time: the day (month, year) in UTC, as this server keeps no local zone.
                start = new DateTimeOffset(year, month, day, 0, 0, 0, TimeSpan.Zero);
                end = match.Groups["d"].Success ? start.AddDays(1) : match.Groups["m"].Success ? start.AddMonths(1) : start.AddYears(1);
                return true;
            }
            var text = new StringBuilder(value);
            if (!match.Groups["z"].Success) text.Append('Z');
            if (!DateTimeOffset.TryParse(text.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out start)) return false;
            // Stored instants have Postgres' microsecond resolution: a finer value would make an empty range.
            var precision = match.Groups["f"].Success
                ? TimeSpan.FromTicks((long)Math.Pow(10, Math.Max(1, 7 - match.Groups["f"].Value.Length)))
                : match.Groups["s"].Success ? TimeSpan.FromSeconds(1) : TimeSpan.FromMinutes(1);
            start = start.ToUniversalTime();
            start = start.AddTicks(-(start.Ticks % precision.Ticks));
            end = start + precision;
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^(?<y>\d{4})(-(?<m>\d{2})(-(?<d>\d{2})(T(?<h>\d{2}):\d{2}(:(?<s>\d{2})(\.(?<f>\d{1,7}))?)?(?<z>Z|[+-]\d{2}:\d{2})?)?)?)?$")]
    private static partial Regex DateValue();

    [GeneratedRegex(@"^[A-Za-z0-9\-\.]{1,64}$")]
    public static partial Regex FhirId();
}

using System.Globalization;
using SandboxEhr.Data;

namespace SandboxEhr.Fhir;

/// <summary>A parsed search: the filters, the patient it names, the paging and what was ignored.</summary>
public sealed class SearchCriteria
{
    private readonly List<HashSet<string>> _ids = [];
    private readonly List<HashSet<string>> _categories = [];
    private readonly List<HashSet<string>> _codes = [];
    private readonly List<(string Prefix, DateTimeOffset From, DateTimeOffset To)> _lastUpdated = [];

    /// <summary>Patient ids named by patient / subject / beneficiary (each must be the token's patient).</summary>
    public List<string> Patients { get; } = [];
    public int? Count { get; private set; }
    public bool IncludeMedication { get; private set; }
    public bool HasCategory => _categories.Count > 0;
    public bool HasId => _ids.Count > 0;
    /// <summary>Parameters left out of a lenient search, for the OperationOutcome entry.</summary>
    public List<string> Ignored { get; } = [];

    /// <summary>The outcome of parsing: criteria, or the status and message of the refusal.</summary>
    public sealed record Result(SearchCriteria? Criteria, int Status = 200, string? Error = null);

    public static Result Parse(string type, IEnumerable<KeyValuePair<string, string>> parameters, VendorProfile profile, bool strict)
    {
        var criteria = new SearchCriteria();
        foreach (var (name, rawValue) in parameters)
        {
            var value = rawValue.Trim();
            if (name == "_count")
            {
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                    return new Result(null, 400, $"_count must be a non-negative integer, not '{value}'");
                criteria.Count = count;
                continue;
            }
            if (SearchParameters.Control.Contains(name))
                continue;
            if (name == "_include")
            {
                if (SearchParameters.Includes(type).Contains(value) || (type == "MedicationRequest" && value == SearchParameters.MedicationInclude + ":Medication"))
                    criteria.IncludeMedication = true;
                else if (strict)
                    return new Result(null, 400, $"_include={value} is not supported on {type}");
                else
                    criteria.Ignored.Add($"_include={value}");
                continue;
            }
            if (!SearchParameters.Accepts(type, name))
            {
                if (strict)
                    return new Result(null, 400, $"Unknown or unsupported search parameter '{name}' for {type}");
                criteria.Ignored.Add(name);
                continue;
            }
            if (value.Length == 0)
                continue;
            switch (name)
            {
                case "_id":
                    criteria._ids.Add(Split(value));
                    break;
                case "patient" or "subject" or "beneficiary":
                    foreach (var reference in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        var id = PatientIdOf(reference);
                        if (id is null)
                            return new Result(null, 400, $"{name}={reference} is not a Patient reference");
                        criteria.Patients.Add(id);
                    }
                    break;
                case "category":
                    criteria._categories.Add(Split(value));
                    break;
                case "code" or "type":
                    criteria._codes.Add(Split(value));
                    break;
                case "_lastUpdated":
                    if (!TryParseDate(value, out var prefix, out var from, out var to))
                        return new Result(null, 400, $"_lastUpdated={value} is not a date with an optional ge/gt/le/lt/eq prefix");
                    criteria._lastUpdated.Add((prefix, from, to));
                    break;
            }
        }
        if (profile.ObservationRequiresCategory && type == "Observation" && !criteria.HasCategory)
            return new Result(null, 400, "Observation searches require the category parameter (e.g. category=laboratory or vital-signs)");
        return new Result(criteria);
    }

    public bool Matches(StoredResource resource)
    {
        foreach (var ids in _ids)
            if (!ids.Contains(resource.Id))
                return false;
        foreach (var set in _categories)
            if (!MatchesToken(set, resource.Categories))
                return false;
        foreach (var set in _codes)
            if (!MatchesToken(set, resource.Codes))
                return false;
        foreach (var (prefix, from, to) in _lastUpdated)
        {
            var at = resource.LastUpdated;
            var ok = prefix switch
            {
                "ge" => at >= from,
                "gt" => at >= to,
                "le" => at < to,
                "lt" => at < from,
                _ => at >= from && at < to,
            };
            if (!ok)
                return false;
        }
        return true;
    }

    public IEnumerable<string> IdFilter => _ids.Count == 0 ? [] : _ids.Aggregate((a, b) => a.Intersect(b).ToHashSet());

    private static bool MatchesToken(HashSet<string> wanted, IReadOnlySet<string> present)
    {
        foreach (var token in wanted)
        {
            if (present.Contains(token))
                return true;
            // "system|" means any code of that system; "|code" a code without system, treated as the code.
            if (token.EndsWith('|') && present.Any(p => p.StartsWith(token, StringComparison.Ordinal)))
                return true;
            if (token.StartsWith('|') && present.Contains(token[1..]))
                return true;
        }
        return false;
    }

    private static HashSet<string> Split(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);

    /// <summary>"123", "Patient/123" or "https://host/fhir/Patient/123".</summary>
    public static string? PatientIdOf(string reference)
    {
        var parts = reference.Split('/');
        if (parts.Length == 1)
            return parts[0];
        return parts.Length >= 2 && parts[^2] == "Patient" && parts[^1].Length > 0 ? parts[^1] : null;
    }

    /// <summary>A FHIR date or dateTime with a prefix, as the half-open interval its precision covers.</summary>
    public static bool TryParseDate(string value, out string prefix, out DateTimeOffset from, out DateTimeOffset to)
    {
        prefix = "eq";
        from = to = default;
        // An unencoded '+' of a time-zone offset arrives as a space.
        value = value.Replace(' ', '+');
        if (value.Length > 2 && char.IsLetter(value[0]) && char.IsLetter(value[1]))
        {
            prefix = value[..2];
            value = value[2..];
            if (prefix is not ("eq" or "ge" or "gt" or "le" or "lt"))
                return false;
        }
        var styles = DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal;
        var c = CultureInfo.InvariantCulture;
        if (value.Length == 4 && DateTime.TryParseExact(value, "yyyy", c, styles, out var year))
        {
            from = new DateTimeOffset(year, TimeSpan.Zero);
            to = from.AddYears(1);
            return true;
        }
        if (value.Length == 7 && DateTime.TryParseExact(value, "yyyy-MM", c, styles, out var month))
        {
            from = new DateTimeOffset(month, TimeSpan.Zero);
            to = from.AddMonths(1);
            return true;
        }
        if (value.Length == 10 && DateTime.TryParseExact(value, "yyyy-MM-dd", c, styles, out var day))
        {
            from = new DateTimeOffset(day, TimeSpan.Zero);
            to = from.AddDays(1);
            return true;
        }
        if (value.Length > 10 && DateTimeOffset.TryParse(value, c, DateTimeStyles.AssumeUniversal, out var instant))
        {
            from = instant;
            // Seconds precision unless fractions were given.
            to = value.Contains('.') ? instant.AddTicks(1) : instant.AddSeconds(1);
            return true;
        }
        return false;
    }
}

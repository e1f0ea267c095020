using PatientConnect.Api.Errors;

namespace PatientConnect.Api.Hosting;

/// <summary>Query strings are bound as plain strings and checked here, so a bad value is a 400 naming it.</summary>
public static class QueryParameters
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;
    public const int MaxCursorLength = 1024;
    public const int MaxTextLength = 200;

    public static int Limit(string? raw, List<FieldError> errors, int defaultLimit = DefaultLimit)
    {
        if (raw is null) return defaultLimit;
        if (int.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit)
            && limit is >= 1 and <= MaxLimit)
        {
            return limit;
        }
        errors.Add(new FieldError("limit", $"must be an integer from 1 to {MaxLimit}."));
        return defaultLimit;
    }

    public static string? Cursor(string? raw, List<FieldError> errors)
    {
        if (string.IsNullOrEmpty(raw)) return null;
        if (raw.Length > MaxCursorLength || raw.Any(char.IsControl))
        {
            errors.Add(new FieldError("cursor", "is not a cursor this API returned."));
            return null;
        }
        return raw;
    }

    /// <summary>Free text (search terms, filters): trimmed, empty means absent, bounded length.</summary>
    public static string? Text(string name, string? raw, List<FieldError> errors)
    {
        var value = raw?.Trim();
        if (string.IsNullOrEmpty(value)) return null;
        if (value.Length > MaxTextLength || value.Any(char.IsControl))
        {
            errors.Add(new FieldError(name, $"must be at most {MaxTextLength} printable characters."));
            return null;
        }
        return value;
    }
}

using System.Text.Json;
using PatientConnect.Api.Errors;
using PatientConnect.Sessions;

namespace PatientConnect.Api.Sessions;

/// <summary>
/// The body of POST /v1/patient-sessions, checked field by field: each problem names its field.
/// Only shapes are checked here; whether a source exists is the patient grain's answer.
/// </summary>
public sealed record CreateSessionBody(
    string PatientId,
    string ReturnUrl,
    string? SourceId,
    IReadOnlyList<string> RecommendedSourceIds,
    int ExpiresIn,
    string MetadataJson,
    PatientHints? Hints = null)
{
    // The limits are the domain's (SessionRules), shared with the session grain that checks them again.
    public const int DefaultExpiresIn = SessionRules.DefaultExpiresInSeconds;
    public const int MinExpiresIn = SessionRules.MinExpiresInSeconds;
    public const int MaxExpiresIn = SessionRules.MaxExpiresInSeconds;
    public const int MaxRecommended = SessionRules.MaxRecommendedSources;
    public const int MaxMetadataBytes = SessionRules.MaxMetadataBytes;
    public const int MaxUrlLength = SessionRules.MaxUrlLength;

    private static readonly HashSet<string> KnownFields =
        ["patient_id", "return_url", "source_id", "recommended_source_ids", "expires_in", "metadata", "patient_zip", "patient_state", "locale"];

    /// <summary>The languages of the hosted page.</summary>
    public static readonly IReadOnlyList<string> Locales = ["en", "es"];

    public static (CreateSessionBody? Body, List<FieldError> Errors) Parse(JsonElement root, bool allowLoopbackHttp)
    {
        var errors = new List<FieldError>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        JsonElement? patientId = null, returnUrl = null, sourceId = null, recommended = null, expiresIn = null, metadata = null;
        JsonElement? zip = null, state = null, locale = null;

        foreach (var property in root.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                errors.Add(new FieldError(property.Name, "appears more than once."));
                continue;
            }
            switch (property.Name)
            {
                case "patient_id": patientId = property.Value; break;
                case "return_url": returnUrl = property.Value; break;
                case "source_id": sourceId = property.Value; break;
                case "recommended_source_ids": recommended = property.Value; break;
                case "expires_in": expiresIn = property.Value; break;
                case "metadata": metadata = property.Value; break;
                case "patient_zip": zip = property.Value; break;
                case "patient_state": state = property.Value; break;
                case "locale": locale = property.Value; break;
                default:
                    // A misspelt optional field would otherwise be silently ignored.
                    errors.Add(new FieldError(property.Name,
                        $"is not a field of this request (expected one of: {string.Join(", ", KnownFields)})."));
                    break;
            }
        }

        var parsedPatientId = ParsePatientId(patientId, errors);
        var parsedReturnUrl = ParseReturnUrl(returnUrl, allowLoopbackHttp, errors);
        var parsedSourceId = ParseSourceId(sourceId, errors);
        var parsedRecommended = ParseRecommended(recommended, errors);
        var parsedExpiresIn = ParseExpiresIn(expiresIn, errors);
        var parsedMetadata = ParseMetadata(metadata, errors);
        var parsedZip = ParseOptionalText(zip, "patient_zip", IsZip, "must be a US ZIP code (5 digits, or ZIP+4).", errors);
        var parsedState = ParseOptionalText(state, "patient_state", IsState, "must be a two-letter US state code, such as \"WI\".", errors);
        var parsedLocale = ParseOptionalText(locale, "locale", IsLocale, $"must be one of: {string.Join(", ", Locales)}.", errors);

        if (errors.Count > 0) return (null, errors);
        var hints = parsedZip is null && parsedState is null && parsedLocale is null
            ? null
            : new PatientHints(parsedZip?[..5], parsedState?.ToUpperInvariant(), parsedLocale?[..2].ToLowerInvariant());
        return (new CreateSessionBody(parsedPatientId!, parsedReturnUrl!, parsedSourceId, parsedRecommended,
            parsedExpiresIn, parsedMetadata, hints), errors);
    }

    private static string? ParseOptionalText(JsonElement? value, string field, Func<string, bool> valid, string rule, List<FieldError> errors)
    {
        if (value is null || value.Value.ValueKind == JsonValueKind.Null) return null;
        var text = value.Value.ValueKind == JsonValueKind.String ? value.Value.GetString()!.Trim() : null;
        if (text is null || !valid(text))
        {
            errors.Add(new FieldError(field, rule));
            return null;
        }
        return text;
    }

    private static bool IsZip(string text) =>
        (text.Length == 5 || (text.Length == 10 && text[5] == '-' && text[6..].All(char.IsAsciiDigit))) && text[..5].All(char.IsAsciiDigit);

    private static bool IsState(string text) => text.Length == 2 && text.All(char.IsAsciiLetter);

    // "es", or a regional tag of it ("es-US", "es-419"): the page has one Spanish.
    private static bool IsLocale(string text) =>
        text.Length >= 2 && Locales.Contains(text[..2].ToLowerInvariant()) && (text.Length == 2 || text[2] == '-');

    private static string? ParsePatientId(JsonElement? value, List<FieldError> errors)
    {
        const string field = "patient_id";
        if (value is null || value.Value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(new FieldError(field, "is required."));
            return null;
        }
        if (value.Value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new FieldError(field, "must be a string."));
            return null;
        }
        var id = value.Value.GetString();
        if (!Ids.IsValidPatientId(id))
        {
            errors.Add(new FieldError(field, "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'."));
            return null;
        }
        return id;
    }

    private static string? ParseReturnUrl(JsonElement? value, bool allowLoopbackHttp, List<FieldError> errors)
    {
        const string field = "return_url";
        if (value is null || value.Value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(new FieldError(field, "is required."));
            return null;
        }
        if (value.Value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new FieldError(field, "must be a string."));
            return null;
        }
        var text = value.Value.GetString()!;
        if (SessionRules.CheckReturnUrl(text, allowLoopbackHttp) is { } problem)
        {
            errors.Add(new FieldError(field, problem));
            return null;
        }
        return text;
    }

    private static string? ParseSourceId(JsonElement? value, List<FieldError> errors)
    {
        const string field = "source_id";
        if (value is null || value.Value.ValueKind == JsonValueKind.Null) return null;
        if (value.Value.ValueKind != JsonValueKind.String || !Ids.IsValid(value.Value.GetString(), Ids.SourcePrefix))
        {
            errors.Add(new FieldError(field, "must be a source id (src_…) from GET /v1/sources."));
            return null;
        }
        return value.Value.GetString();
    }

    private static IReadOnlyList<string> ParseRecommended(JsonElement? value, List<FieldError> errors)
    {
        const string field = "recommended_source_ids";
        if (value is null || value.Value.ValueKind == JsonValueKind.Null) return [];
        if (value.Value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new FieldError(field, "must be an array of source ids."));
            return [];
        }
        var count = value.Value.GetArrayLength();
        if (count > MaxRecommended)
        {
            errors.Add(new FieldError(field, $"may hold at most {MaxRecommended} source ids."));
            return [];
        }
        var ids = new List<string>(count);
        var index = 0;
        foreach (var item in value.Value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !Ids.IsValid(item.GetString(), Ids.SourcePrefix))
            {
                errors.Add(new FieldError(field, $"item {index} must be a source id (src_…) from GET /v1/sources."));
            }
            else if (!ids.Contains(item.GetString()!))
            {
                ids.Add(item.GetString()!);
            }
            index++;
        }
        return ids;
    }

    private static int ParseExpiresIn(JsonElement? value, List<FieldError> errors)
    {
        const string field = "expires_in";
        if (value is null || value.Value.ValueKind == JsonValueKind.Null) return DefaultExpiresIn;
        if (value.Value.ValueKind == JsonValueKind.Number && value.Value.TryGetInt32(out var seconds))
        {
            if (seconds is >= MinExpiresIn and <= MaxExpiresIn) return seconds;
        }
        errors.Add(new FieldError(field, $"must be an integer number of seconds from {MinExpiresIn} to {MaxExpiresIn}."));
        return DefaultExpiresIn;
    }

    /// <summary>Valid JSON text without the whitespace between tokens; string contents are left untouched.</summary>
    public static string MinifiedRawJson(string json)
    {
        var text = new System.Text.StringBuilder(json.Length);
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                text.Append(c);
                if (c == '\\') text.Append(json[++i]);
                else if (c == '"') inString = false;
            }
            else if (c is not (' ' or '\t' or '\r' or '\n'))
            {
                text.Append(c);
                if (c == '"') inString = true;
            }
        }
        return text.ToString();
    }

    private static string ParseMetadata(JsonElement? value, List<FieldError> errors)
    {
        const string field = "metadata";
        if (value is null || value.Value.ValueKind == JsonValueKind.Null) return "{}";
        if (value.Value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(field, "must be a JSON object."));
            return "{}";
        }
        // Kept as the app wrote it (only whitespace between tokens dropped, so indentation does not
        // count against the limit): escapes, number spellings and key order come back byte for byte.
        var compact = MinifiedRawJson(value.Value.GetRawText());
        var bytes = System.Text.Encoding.UTF8.GetByteCount(compact);
        if (bytes > MaxMetadataBytes)
        {
            errors.Add(new FieldError(field, $"may be at most {MaxMetadataBytes} bytes of JSON (it is {bytes})."));
            return "{}";
        }
        return compact;
    }
}

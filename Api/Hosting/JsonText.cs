using System.Text.Json;
using System.Text.Unicode;

namespace PatientConnect.Api.Hosting;

/// <summary>
/// JSON that parses can still carry text that is not Unicode: raw bytes that are not UTF-8, or a
/// <c>\ud800</c> escape without its other half. The parser accepts both; reading such a string later
/// throws (or silently turns it into U+FFFD). Every string is checked here, once, before any field is read.
/// </summary>
public static class JsonText
{
    public const string Problem = "must be valid UTF-8 text (no invalid bytes and no unpaired surrogate escapes).";

    /// <summary>
    /// Null when every property name and string value is valid text; otherwise the top-level field
    /// that holds the first bad one ("body" when a top-level name itself is bad).
    /// </summary>
    public static string? FirstInvalidField(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        string? field = null;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    if (!IsValidText(reader.ValueSpan, reader.ValueIsEscaped)) return reader.CurrentDepth == 1 ? "body" : field ?? "body";
                    if (reader.CurrentDepth == 1) field = reader.GetString();
                    break;
                case JsonTokenType.String:
                    if (!IsValidText(reader.ValueSpan, reader.ValueIsEscaped)) return field ?? "body";
                    break;
            }
        }
        return null;
    }

    /// <summary>The raw (still escaped) bytes of one JSON string.</summary>
    public static bool IsValidText(ReadOnlySpan<byte> raw, bool escaped)
    {
        if (!Utf8.IsValid(raw)) return false;
        if (!escaped) return true;
        // Escapes are ASCII, so walking the bytes finds every \uXXXX; each high surrogate must be
        // followed at once by a low one, and no low one may stand alone.
        var pendingHigh = false;
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != (byte)'\\')
            {
                if (pendingHigh) return false;
                continue;
            }
            var kind = raw[++i];
            if (kind != (byte)'u')
            {
                if (pendingHigh) return false;
                continue;
            }
            var unit = Hex(raw.Slice(i + 1, 4));
            i += 4;
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (pendingHigh) return false;
                pendingHigh = true;
            }
            else if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                if (!pendingHigh) return false;
                pendingHigh = false;
            }
            else if (pendingHigh)
            {
                return false;
            }
        }
        return !pendingHigh;
    }

    // The reader has already checked that four hex digits follow \u.
    private static int Hex(ReadOnlySpan<byte> digits)
    {
        var value = 0;
        foreach (var d in digits)
        {
            value = (value << 4) | (d <= '9' ? d - '0' : (d | 0x20) - 'a' + 10);
        }
        return value;
    }
}

using System.Buffers.Text;
using System.Text;
using PatientConnect.Api.Errors;

namespace PatientConnect.Api.Hosting;

/// <summary>An opaque cursor for short lists the Api pages itself: the offset, base64url-encoded.</summary>
public static class OffsetCursor
{
    private const string Prefix = "o1:";

    public static string Format(int offset) => Base64Url.EncodeToString(Encoding.ASCII.GetBytes(Prefix + offset));

    public static int Parse(string? cursor, List<FieldError> errors)
    {
        if (string.IsNullOrEmpty(cursor)) return 0;
        try
        {
            var text = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(cursor));
            if (text.StartsWith(Prefix, StringComparison.Ordinal)
                && int.TryParse(text.AsSpan(Prefix.Length), System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out var offset))
            {
                return offset;
            }
        }
        catch (FormatException)
        {
        }
        errors.Add(new FieldError("cursor", "is not a cursor this API returned."));
        return 0;
    }
}

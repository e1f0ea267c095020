using System.Buffers.Text;
using System.Text;

namespace PatientConnect.Grains.Common;

/// <summary>
/// Opaque list cursors. A cursor names the last item of the previous page (not an offset), so a page
/// boundary stays put when new items arrive at the head of a newest-first list.
/// </summary>
public static class Cursors
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;

    public static string Encode(string lastId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastId));

    /// <summary>The id inside a cursor; throws <see cref="ArgumentException"/> (param "cursor") on garbage.</summary>
    public static string Decode(string cursor)
    {
        try
        {
            var id = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            if (id.Length is > 0 and <= 200) return id;
        }
        catch (FormatException)
        {
        }
        throw new ArgumentException("The cursor is not one this list issued.", "cursor");
    }

    /// <summary>The contract's limit rule: default 50, at most 100.</summary>
    public static int Clamp(int limit) => limit <= 0 ? DefaultLimit : Math.Min(limit, MaxLimit);
}

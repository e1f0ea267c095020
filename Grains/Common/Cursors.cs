using System.Buffers.Text;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PatientConnect.Common;

namespace PatientConnect.Grains.Common;

/// <summary>
/// The one owner of list paging: opaque cursors, the contract's limit rule and the keyset page read.
/// A cursor names the last item of the previous page (not an offset), so a page boundary stays put
/// when new items arrive at the head of a newest-first list or syncs write elsewhere in the order.
/// </summary>
public static class Cursors
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;

    // Longer than any key this service issues (a records key is type, conn_ id and FHIR id, ≤ 64 each).
    private const int MaxCursorLength = 1024;

    /// <summary>The contract's limit rule: default 50, at most 100.</summary>
    public static int Clamp(int limit) => limit <= 0 ? DefaultLimit : Math.Min(limit, MaxLimit);

    public static string Encode(string lastId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastId));

    /// <summary>The id inside a cursor; throws <see cref="InvalidFieldException"/> (field "cursor") on garbage.</summary>
    public static string Decode(string cursor) =>
        Text(cursor) is { Length: > 0 and <= 200 } id ? id : throw NotIssued();

    /// <summary>A numeric key (an outbox or table id).</summary>
    public static string Encode(long lastId) => Encode(lastId.ToString(CultureInfo.InvariantCulture));

    /// <summary>The positive numeric key inside a cursor; throws like <see cref="Decode"/>.</summary>
    public static long DecodeId(string cursor) =>
        long.TryParse(Decode(cursor), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : throw NotIssued();

    /// <summary>A composite key (the records list's type, connection, id).</summary>
    public static string Encode(IReadOnlyList<string> keys) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(keys));

    /// <summary>The <paramref name="count"/> non-empty parts of a composite key; throws like <see cref="Decode"/>.</summary>
    public static string[] DecodeKeys(string cursor, int count)
    {
        try
        {
            if (Text(cursor) is { } text && JsonSerializer.Deserialize<string[]>(text) is { } keys
                && keys.Length == count && keys.All(k => k is { Length: > 0 }))
            {
                return keys;
            }
        }
        catch (JsonException)
        {
        }
        throw NotIssued();
    }

    /// <summary>
    /// Reads a keyset page: the query asked for <paramref name="limit"/> + 1 rows, and the extra row only
    /// says there is more, in which case the cursor is the key of the last row kept.
    /// </summary>
    public static async Task<(List<T> Items, string? Next)> ReadPageAsync<T>(
        DbDataReader reader, int limit, Func<DbDataReader, T> read, Func<T, string> cursorOf, CancellationToken cancellationToken)
    {
        var items = new List<T>(Math.Min(limit, 256));
        while (await reader.ReadAsync(cancellationToken))
        {
            if (items.Count == limit) return (items, items.Count > 0 ? cursorOf(items[^1]) : null);
            items.Add(read(reader));
        }
        return (items, null);
    }

    private static string? Text(string cursor)
    {
        if (cursor.Length > MaxCursorLength) return null;
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static InvalidFieldException NotIssued() => InvalidFieldException.CursorNotIssued();
}

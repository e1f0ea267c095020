using System.Buffers.Text;
using System.Text.Json;

namespace PatientConnect.Grains.Storage;

/// <summary>
/// The opaque cursor of the records list: the key of the last record of the previous page, in the
/// list's order (type, connection, id). Not an offset, so paging is stable while syncs write.
/// </summary>
public sealed record RecordCursor(string ResourceType, string ConnectionId, string ResourceId)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;

    public string Encode() => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new[] { ResourceType, ConnectionId, ResourceId }));

    /// <summary>Throws <see cref="ArgumentException"/> naming "cursor" for anything this list did not issue.</summary>
    public static RecordCursor Decode(string cursor)
    {
        try
        {
            if (cursor.Length <= 1024
                && JsonSerializer.Deserialize<string[]>(Base64Url.DecodeFromChars(cursor)) is [{ Length: > 0 } type, { Length: > 0 } connection, { Length: > 0 } id])
            {
                return new RecordCursor(type, connection, id);
            }
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
        }
        throw new ArgumentException("The cursor is not one this list issued.", "cursor");
    }
}

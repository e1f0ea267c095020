using PatientConnect.Common;
using PatientConnect.Grains.Common;

namespace PatientConnect.Grains.Storage;

/// <summary>
/// The key the records list pages by: the last record of the previous page, in the list's order
/// (type, connection, id). Encoded by <see cref="Cursors"/> like every other list cursor.
/// </summary>
public sealed record RecordCursor(string ResourceType, string ConnectionId, string ResourceId)
{
    public string Encode() => Cursors.Encode([ResourceType, ConnectionId, ResourceId]);

    /// <summary>Throws <see cref="InvalidFieldException"/> naming "cursor" for anything this list did not issue.</summary>
    public static RecordCursor Decode(string cursor) => Cursors.DecodeKeys(cursor, 3) is [var type, var connection, var id]
        ? new RecordCursor(type, connection, id)
        : throw InvalidFieldException.CursorNotIssued();
}

using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using PatientConnect.Contract;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// A patient's list page as the contract's JSON, written in the silo from what each session row stores,
/// so a list neither deserializes 51 grain states nor ships 50 views to the Api to be serialized there.
/// <para>
/// Each row keeps its session object's JSON (<see cref="SessionJson"/> through <see cref="ContractJson"/>,
/// the one writer of the contract's shape) from return_url on: the <see cref="Tail"/>, written by the same
/// statement that writes the state, so it is never older than the state. What a row cannot know when it is
/// written is put in front at read time: the status (an open session past expires_at shows expired before
/// the scheduler records it) and the url (built on PublicBaseUrl, which is configuration). Those, with id and
/// patient_id, are the session object's first four fields, so tail and head together are its JSON as
/// <see cref="SessionJson"/> writes it.
/// </para>
/// </summary>
public static class SessionListJson
{
    private static readonly PatientConnectOptions AnyBase = new();
    private static readonly JavaScriptEncoder Encoder = ContractJson.Options.Encoder ?? JavaScriptEncoder.Default;

    /// <summary>The session object's JSON after its url value: <c>,"return_url":…}</c>.</summary>
    public static byte[] Tail(string id, PatientSessionState s)
    {
        // Status and url are cut off below, so the clock and the base url used here do not matter.
        var json = JsonSerializer.SerializeToUtf8Bytes(SessionJson.From(SessionViews.From(id, s, AnyBase, s.CreatedAt)), ContractJson.Options);
        var reader = new Utf8JsonReader(json);
        string[] head = ["id", "patient_id", "status", "url"];
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw Unexpected();
        foreach (var name in head)
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals(name)) throw Unexpected();
            if (!reader.Read() || reader.TokenType != JsonTokenType.String) throw Unexpected();
        }
        return json.AsSpan((int)reader.BytesConsumed).ToArray();
    }

    /// <summary>
    /// <c>{"data":[…],"next_cursor":…}</c>: each item is the head written from the row's columns and the
    /// tail it stores, the status as <see cref="SessionViews.EffectiveStatus"/> decides it at <paramref name="now"/>.
    /// </summary>
    public static byte[] Page(IReadOnlyList<ListedSession> rows, string patientId, string? nextCursor,
        PatientConnectOptions options, DateTimeOffset now)
    {
        var size = 64;
        foreach (var row in rows) size += row.Tail.Length + 256;
        var buffer = new ArrayBufferWriter<byte>(size);
        Write(buffer, "{\"data\":["u8);
        var encodedPatient = JsonEncodedText.Encode(patientId, Encoder);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            Write(buffer, i == 0 ? "{\"id\":"u8 : ",{\"id\":"u8);
            WriteString(buffer, JsonEncodedText.Encode(row.Id, Encoder));
            Write(buffer, ",\"patient_id\":"u8);
            WriteString(buffer, encodedPatient);
            Write(buffer, ",\"status\":"u8);
            Write(buffer, StatusValue(SessionViews.EffectiveStatus(row.Status, row.ExpiresAt, now)));
            Write(buffer, ",\"url\":"u8);
            WriteString(buffer, JsonEncodedText.Encode(options.SessionUrl(row.Id), Encoder));
            Write(buffer, row.Tail);
        }
        Write(buffer, "],\"next_cursor\":"u8);
        if (nextCursor is null) Write(buffer, "null"u8);
        else WriteString(buffer, JsonEncodedText.Encode(nextCursor, Encoder));
        Write(buffer, "}"u8);
        return buffer.WrittenSpan.ToArray();
    }

    // The enum's contract spelling from the contract's own options, not a second copy of it here.
    private static readonly Dictionary<SessionStatus, byte[]> StatusJson = Enum.GetValues<SessionStatus>()
        .ToDictionary(s => s, s => JsonSerializer.SerializeToUtf8Bytes(s, ContractJson.Options));

    private static ReadOnlySpan<byte> StatusValue(SessionStatus status) => StatusJson[status];

    private static void WriteString(ArrayBufferWriter<byte> buffer, JsonEncodedText text)
    {
        Write(buffer, "\""u8);
        Write(buffer, text.EncodedUtf8Bytes);
        Write(buffer, "\""u8);
    }

    private static void Write(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> bytes) => buffer.Write(bytes);

    private static InvalidOperationException Unexpected() =>
        new("The session object's JSON no longer starts with id, patient_id, status and url: SessionListJson must follow SessionJson.");
}

/// <summary>A listed session as its row stores it: its list position, the status and expiry as written, and its JSON tail.</summary>
public sealed record ListedSession(string Id, SessionKey Key, SessionStatus Status, DateTimeOffset ExpiresAt, byte[] Tail);

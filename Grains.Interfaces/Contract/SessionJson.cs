using System.Text.Json;
using PatientConnect.Connections;
using PatientConnect.Sessions;

namespace PatientConnect.Contract;

/// <summary>
/// The session object of CONTRACT.md, field for field (plus recommended_source_ids and the optional
/// hosted-page hints patient_zip, patient_state and locale, null when not given). One shape for the
/// Api's answers and the webhook events' data, so the two can never drift apart.
/// </summary>
public sealed record SessionJson(
    string Id,
    string PatientId,
    SessionStatus Status,
    string Url,
    string ReturnUrl,
    string? SourceId,
    string? ConnectionId,
    ConnectionStatus? ConnectionStatus,
    string? Error,
    string? ErrorDescription,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(RawJsonConverter))] JsonElement Metadata,
    DateTime CreatedAt,
    DateTime ExpiresAt,
    DateTime? CompletedAt,
    IReadOnlyList<string> RecommendedSourceIds,
    string? PatientZip,
    string? PatientState,
    string? Locale)
{
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    public static SessionJson From(SessionView view) => new(
        view.Id,
        view.PatientId,
        view.Status,
        view.Url,
        view.ReturnUrl,
        view.SourceId,
        view.ConnectionId,
        view.ConnectionStatus,
        view.Error,
        view.ErrorDescription,
        ParseMetadata(view.MetadataJson),
        view.CreatedAt.UtcDateTime,
        view.ExpiresAt.UtcDateTime,
        view.CompletedAt?.UtcDateTime,
        view.RecommendedSourceIds,
        view.Hints?.Zip,
        view.Hints?.State,
        view.Hints?.Locale);

    // Metadata was checked to be an object on the way in; the raw text goes back out as JSON, not as a string.
    private static JsonElement ParseMetadata(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return EmptyObject;
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : EmptyObject;
        }
        catch (JsonException)
        {
            return EmptyObject;
        }
    }
}

using PatientConnect.Connections;

namespace PatientConnect.Contract;

/// <summary>The connection object of CONTRACT.md (plus created_at, updated_at). No token ever appears here.</summary>
public sealed record ConnectionJson(
    string Id,
    string PatientId,
    string SourceId,
    ConnectionStatus Status,
    string? FailureCode,
    string? FailureDescription,
    IReadOnlyList<string> Scopes,
    string? FhirPatientId,
    DateTime? ConnectedAt,
    DateTime? LastRefreshedAt,
    DateTime? AccessExpiresAt,
    SyncJson Sync,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? AuthorizationExpiresAt)
{
    public static ConnectionJson From(ConnectionView view) => new(
        view.Id,
        view.PatientId,
        view.SourceId,
        view.Status,
        view.FailureCode,
        view.FailureDescription,
        view.Scopes,
        view.FhirPatientId,
        view.ConnectedAt?.UtcDateTime,
        view.LastRefreshedAt?.UtcDateTime,
        view.AccessExpiresAt?.UtcDateTime,
        SyncJson.From(view.Sync ?? SyncView.Pending),
        view.CreatedAt.UtcDateTime,
        view.UpdatedAt.UtcDateTime,
        view.AuthorizationExpiresAt?.UtcDateTime);
}

public sealed record SyncJson(
    SyncStatus Status,
    long ResourcesFetched,
    DateTime? StartedAt,
    DateTime? CompletedAt,
    string? Error,
    IReadOnlyDictionary<string, long> Counts,
    IReadOnlyList<string> Notes)
{
    public static SyncJson From(SyncView view) => new(
        view.Status, view.ResourcesFetched, view.StartedAt?.UtcDateTime, view.CompletedAt?.UtcDateTime, view.Error,
        view.Counts ?? new Dictionary<string, long>(), view.Notes ?? []);
}

using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PatientConnect.Api.Auth;
using PatientConnect.Api.Errors;
using PatientConnect.Api.Hosting;
using PatientConnect.Api.Records;
using PatientConnect.Patients;
using PatientConnect.Webhooks;

namespace PatientConnect.Api.Events;

/// <summary>
/// A patient's history: every event the webhook stream carried for them (from the same stored rows)
/// plus the history-only ones (connection.refreshed, records.sync.started), newest first.
/// </summary>
public static class EventsApi
{
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/patients/{patient_id}/events", List)
            .WithTags("Patients")
            .WithName("ListPatientEvents")
            .WithSummary("The patient's history, newest first: sessions completed or expired, connection status changes with their failure, " +
                         "refreshes, syncs started and ended. Filter by type (comma list) and since (created_at ≥).")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithResponseExample(StatusCodes.Status200OK, "application/json", """
                {"data": [{"id": "evt_3k2n7q4m5p6r7s8t9v2w3x4y5z6a7b8c", "type": "connection.refresh_failed", "created_at": "2026-01-31T10:15:00Z",
                  "patient_session_id": null, "connection_id": "conn_4d5e6f7g2h3j4k5m6n7p2q3r4s5t6u7v",
                  "status_before": "active", "status_after": "refresh_failed", "failure_code": "invalid_grant",
                  "failure_description": "The source refused to refresh access (invalid_grant). The patient needs to reconnect.",
                  "webhook": true, "data": {"id": "conn_4d5e6f7g2h3j4k5m6n7p2q3r4s5t6u7v", "patient_id": "user-123", "status": "refresh_failed"}}],
                 "next_cursor": "aDEyMw"}
                """);
        return endpoints;
    }

    private static async Task<Results<Ok<ListJson<PatientEventJson>>, ProblemHttpResult>> List(
        [FromRoute(Name = "patient_id")] string patientId,
        string? type, string? since, string? limit, string? cursor,
        HttpContext http, IClusterClient cluster)
    {
        var errors = new List<FieldError>();
        if (!Ids.IsValidPatientId(patientId))
            errors.Add(new FieldError("patient_id", "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'."));
        List<string>? types = null;
        if (type is not null)
        {
            types = [.. type.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal)];
            if (types.Count == 0 || types.Any(t => !WebhookEventTypes.All.Contains(t)))
                errors.Add(new FieldError("type", $"must be one or more (comma-separated) of {string.Join(", ", WebhookEventTypes.All)}."));
        }
        DateTimeOffset? sinceValue = null;
        if (since is not null)
        {
            if (RecordsApi.TryParseTimestamp(since, out var parsed)) sinceValue = parsed;
            else errors.Add(new FieldError("since", "must be an RFC 3339 timestamp such as 2025-01-31T00:00:00Z."));
        }
        var pageSize = QueryParameters.Limit(limit, errors);
        var pageCursor = QueryParameters.Cursor(cursor, errors);
        if (errors.Count > 0) return Problems.Validation(errors);

        var page = await cluster.GetGrain<IPatientHistoryGrain>(0).List(
            new PatientEventQuery(http.TenantId(), patientId, types, sinceValue, pageSize, pageCursor));
        return TypedResults.Ok(new ListJson<PatientEventJson>(page.Data.Select(PatientEventJson.From).ToList(), page.NextCursor));
    }
}

/// <summary>One history entry as the API writes it; <c>data</c> is the event's object as it was delivered (or would have been).</summary>
public sealed record PatientEventJson(
    string Id,
    string Type,
    DateTime CreatedAt,
    string? PatientSessionId,
    string? ConnectionId,
    string? StatusBefore,
    string? StatusAfter,
    string? FailureCode,
    string? FailureDescription,
    bool Webhook,
    JsonElement Data)
{
    public static PatientEventJson From(PatientEvent e)
    {
        using var data = JsonDocument.Parse(e.DataJson);
        return new PatientEventJson(e.Id, e.Type, e.CreatedAt.UtcDateTime, e.PatientSessionId, e.ConnectionId, e.StatusBefore,
            e.StatusAfter, e.FailureCode, e.FailureDescription, e.Delivered, data.RootElement.Clone());
    }
}

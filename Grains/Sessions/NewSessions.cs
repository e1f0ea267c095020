using System.Text;
using PatientConnect.Grains.Sources;
using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>A new session: whether a request may open one, and the state it starts with.</summary>
public static class NewSessions
{
    /// <summary>
    /// Null when the request may open a session, otherwise the refused field. The domain's checks of a new session (<see cref="SessionRules"/>, the ones the Api applies to the
    /// body too) and the directory's answer on the sources it names.
    /// </summary>
    public static CreateSessionResult? Check(CreateSession request, SourceCatalog catalog, PatientConnectOptions options)
    {
        if (string.IsNullOrEmpty(request.TenantId)) throw new ArgumentException("A session belongs to a tenant.", nameof(request));
        if (!Ids.IsValidPatientId(request.PatientId))
        {
            return Invalid("patient_id", "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'.");
        }
        // The session redirects here with its outcome, so the grain refuses an open redirect even from a
        // caller that skipped the Api.
        if (SessionRules.CheckReturnUrl(request.ReturnUrl, options.AllowLoopbackHttp) is { } why) return Invalid("return_url", why);
        if (!SessionRules.IsAllowedExpiresIn(request.ExpiresIn))
        {
            return Invalid("expires_in", $"must be an integer number of seconds from {SessionRules.MinExpiresInSeconds} to {SessionRules.MaxExpiresInSeconds}.");
        }
        if (Encoding.UTF8.GetByteCount(request.MetadataJson ?? "") > SessionRules.MaxMetadataBytes)
        {
            return Invalid("metadata", $"may be at most {SessionRules.MaxMetadataBytes} bytes of JSON.");
        }
        if (request.SourceId is not null)
        {
            var source = catalog.Find(request.SourceId);
            if (source is null) return Invalid("source_id", $"No source '{request.SourceId}' exists in the directory.");
            if (!source.Connectable)
            {
                return Invalid("source_id", $"Source '{request.SourceId}' ({source.View.Name}) is listed but cannot be connected yet.");
            }
        }
        if (request.RecommendedSourceIds.Count > SessionRules.MaxRecommendedSources)
        {
            return Invalid("recommended_source_ids", $"may hold at most {SessionRules.MaxRecommendedSources} source ids.");
        }
        foreach (var id in request.RecommendedSourceIds)
        {
            if (catalog.Find(id) is null) return Invalid("recommended_source_ids", $"No source '{id}' exists in the directory.");
        }
        return null;
    }

    public static PatientSessionState State(CreateSession request, DateTimeOffset now) => new()
    {
        TenantId = request.TenantId,
        PatientId = request.PatientId,
        ReturnUrl = request.ReturnUrl,
        SourceId = request.SourceId,
        RecommendedSourceIds = [.. request.RecommendedSourceIds.Distinct(StringComparer.Ordinal)],
        MetadataJson = string.IsNullOrWhiteSpace(request.MetadataJson) ? "{}" : request.MetadataJson,
        CreatedAt = now,
        ExpiresAt = now + request.ExpiresIn,
        Status = SessionStatus.Open,
        Hints = request.Hints,
    };

    private static CreateSessionResult Invalid(string field, string error) => new(null, field, error);
}

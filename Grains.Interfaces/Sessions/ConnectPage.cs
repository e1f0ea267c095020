namespace PatientConnect.Sessions;

/// <summary>
/// What the hosted connect page needs to render for a session. The session id in the URL is the
/// capability here (no API key on the patient's browser), so this carries no tenant data beyond it.
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.ConnectPage")]
public sealed record ConnectPage(
    [property: Id(0)] string SessionId,
    [property: Id(1)] SessionStatus Status,
    [property: Id(2)] string? DirectSourceId,
    [property: Id(3)] IReadOnlyList<string> RecommendedSourceIds,
    /// <summary>Where "back to the app" points: return_url with the outcome parameters.</summary>
    [property: Id(4)] string ReturnLink,
    [property: Id(5)] DateTimeOffset ExpiresAt,
    /// <summary>The app's optional hints for the page (patient's ZIP or state, language).</summary>
    [property: Id(6)] PatientHints? Hints = null);

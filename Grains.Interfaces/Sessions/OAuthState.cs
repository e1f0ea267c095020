namespace PatientConnect.Sessions;

/// <summary>
/// OAuth state is "{ps_id}.{160 random bits}": the prefix routes the callback to its session
/// grain, the random part (compared in constant time, usable once) is what proves it.
/// </summary>
public static class OAuthState
{
    public static string New(string sessionId) => $"{sessionId}.{Ids.RandomToken(20)}";

    public static string? SessionIdOf(string? state)
    {
        if (string.IsNullOrEmpty(state)) return null;
        var dot = state.IndexOf('.');
        if (dot <= 0) return null;
        var id = state[..dot];
        return Ids.IsValid(id, Ids.SessionPrefix) ? id : null;
    }
}

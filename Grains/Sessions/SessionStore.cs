namespace PatientConnect.Grains.Sessions;

/// <summary>Names of the session grains' own storage (see <see cref="PostgresSessionStore"/>).</summary>
public static class SessionStore
{
    /// <summary>The grain storage name in <c>[PersistentState("session", SessionStore.Name)]</c>.</summary>
    public const string Name = "sessions";
}

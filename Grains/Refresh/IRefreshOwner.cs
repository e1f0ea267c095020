using PatientConnect.Grains.Connections;

namespace PatientConnect.Grains.Refresh;

/// <summary>
/// What a <see cref="TokenRefresh"/> needs from the connection grain that owns it: the state, and the
/// grain's one way of changing it (state and webhook events in one write; see ConnectionGrain.Change).
/// </summary>
internal interface IRefreshOwner
{
    string ConnectionId { get; }

    ConnectionState State { get; }

    Task Change(Action<ConnectionState> mutate, params string[] eventTypes);

    /// <summary>The refresh ended the connection (refresh_failed): its other reminders stop too.</summary>
    Task RefreshEnded();
}

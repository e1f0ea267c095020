namespace PatientConnect.Api.Health;

/// <summary>What the Orleans client last reported about its gateways, for the readiness check.</summary>
public sealed class ClusterConnectionState : IClusterConnectionStatusObserver
{
    private volatile bool _lost;
    private volatile int _gateways = -1;

    /// <summary>The client reported gateways and has not lost them since.</summary>
    public bool Connected => !_lost && _gateways > 0;

    /// <summary>The client reported the cluster lost and no gateway came back yet.</summary>
    public bool Lost => _lost;

    public int Gateways => _gateways;

    public void NotifyClusterConnectionLost() => _lost = true;

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        _gateways = currentNumberOfGateways;
        if (currentNumberOfGateways > 0) _lost = false;
    }
}

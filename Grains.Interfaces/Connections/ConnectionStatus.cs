namespace PatientConnect.Connections;

/// <summary>Serialized as the contract's strings: active, failed, refresh_failed, disconnected.</summary>
[GenerateSerializer, Alias("pc.ConnectionStatus")]
public enum ConnectionStatus { Active, Failed, RefreshFailed, Disconnected }

namespace PatientConnect.Sessions;

/// <summary>Serialized as the contract's lowercase strings: open, complete, expired.</summary>
[GenerateSerializer, Alias("pc.SessionStatus")]
public enum SessionStatus { Open, Complete, Expired }

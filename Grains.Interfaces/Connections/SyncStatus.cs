namespace PatientConnect.Connections;

/// <summary>pending, running, completed, failed.</summary>
[GenerateSerializer, Alias("pc.SyncStatus")]
public enum SyncStatus { Pending, Running, Completed, Failed }

namespace PatientConnect.Sync;

/// <summary>Full pulls everything; Incremental asks only for what changed since the last completed sync.</summary>
[GenerateSerializer, Alias("pc.SyncMode")]
public enum SyncMode { Full, Incremental }

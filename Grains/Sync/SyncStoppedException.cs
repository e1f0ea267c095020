namespace PatientConnect.Grains.Sync;

/// <summary>The sync cannot go on; the message is the reason shown in the connection's sync error.</summary>
public sealed class SyncStoppedException(string reason) : Exception(reason);

namespace PatientConnect.Grains.Storage;

/// <summary>
/// How grain state is written to storage, in one place: the silo uses it, and the serializer tests
/// round-trip every persisted state type through the very serializer it configures.
/// </summary>
public static class StorageSerializerExtensions
{
    /// <summary>Plain JSON rows instead of Newtonsoft with $type: renaming a state type keeps its data.</summary>
    public static ISiloBuilder UsePatientConnectStorageSerializer(this ISiloBuilder silo) => silo.UseSystemTextJsonGrainStorageSerializer();
}

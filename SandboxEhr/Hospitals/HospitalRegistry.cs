namespace SandboxEhr.Hospitals;

/// <summary>All virtual hospitals of this process, built once at start.</summary>
public sealed class HospitalRegistry(IReadOnlyList<Hospital> hospitals)
{
    public IReadOnlyList<Hospital> All => hospitals;

    public Hospital? Find(string id) => hospitals.FirstOrDefault(h => h.Info.Id == id);
}

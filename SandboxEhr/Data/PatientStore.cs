namespace SandboxEhr.Data;

/// <summary>The patients and resources of one hospital, held in memory. (Filled in by the data work.)</summary>
public sealed class PatientStore
{
    private readonly List<PatientSummary> _patients = [];

    public IReadOnlyList<PatientSummary> List() => _patients;

    public bool Contains(string patientId) => _patients.Exists(p => p.Id == patientId);
}

using System.Collections.Frozen;
using Hl7.Fhir.Model;
using SandboxEhr.Fhir;

namespace SandboxEhr.Data;

/// <summary>
/// The patients and resources of one hospital, held in memory and immutable after start. Each
/// compartment list is ordered by (lastUpdated, id), so paging walks a fixed sequence.
/// </summary>
public sealed class PatientStore
{
    private readonly List<PatientSummary> _patients;
    private readonly FrozenDictionary<string, StoredResource> _byKey;
    private readonly FrozenDictionary<string, FrozenDictionary<string, StoredResource[]>> _byPatient;

    public PatientStore() : this([], [])
    {
    }

    private PatientStore(List<PatientSummary> patients, IReadOnlyList<StoredResource> resources)
    {
        _patients = patients;
        _byKey = resources.ToFrozenDictionary(r => Key(r.Type, r.Id), StringComparer.Ordinal);
        _byPatient = resources
            .Where(r => r.PatientId is not null)
            .GroupBy(r => r.PatientId!, StringComparer.Ordinal)
            .ToFrozenDictionary(
                g => g.Key,
                g => g.GroupBy(r => r.Type, StringComparer.Ordinal)
                    .ToFrozenDictionary(
                        t => t.Key,
                        t => t.OrderBy(r => r.LastUpdated).ThenBy(r => r.Id, StringComparer.Ordinal).ToArray(),
                        StringComparer.Ordinal),
                StringComparer.Ordinal);
        ResourceTotal = resources.Count;
    }

    public IReadOnlyList<PatientSummary> List() => _patients;

    public bool Contains(string patientId) => _byKey.ContainsKey(Key("Patient", patientId));

    /// <summary>Every resource held, compartment or shared.</summary>
    public int ResourceTotal { get; }

    public StoredResource? Find(string type, string id) => _byKey.GetValueOrDefault(Key(type, id));

    /// <summary>The patient's resources of one type, in paging order (empty when none).</summary>
    public IReadOnlyList<StoredResource> Compartment(string patientId, string type) =>
        _byPatient.TryGetValue(patientId, out var byType) && byType.TryGetValue(type, out var list) ? list : [];

    /// <summary>
    /// Per resourceType, what a full pull of the patient's compartment by search (<c>?patient=</c>, and
    /// <c>Patient?_id=</c>) returns: Patient, the clinical types, Coverage and ExplanationOfBenefit.
    /// Binary, Medication, Practitioner and Organization are reached by read or <c>_include</c> and are
    /// not counted.
    /// </summary>
    public IReadOnlyDictionary<string, int> ResourceCounts(string patientId)
    {
        if (!_byPatient.TryGetValue(patientId, out var byType))
            return new Dictionary<string, int>();
        return byType
            .Where(kv => kv.Key != "Binary")
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .ToDictionary(kv => kv.Key, kv => kv.Value.Length, StringComparer.Ordinal);
    }

    /// <summary>
    /// Indexes and serializes the resources once. Types the profile does not serve are dropped, so
    /// what is held is exactly what can be fetched.
    /// </summary>
    public static PatientStore Build(IReadOnlyList<Resource> resources, VendorProfile profile)
    {
        var served = resources.Where(r => profile.Serves(r.TypeName)).ToArray();
        var stored = new StoredResource[served.Length];
        Parallel.For(0, served.Length, i => stored[i] = ResourceIndexer.Store(served[i]));

        // A Binary belongs to the compartment of the DocumentReference that points at it.
        var binaryOwner = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var r in stored)
            if (r.PatientId is not null)
                foreach (var binaryId in r.AttachmentBinaryIds)
                    binaryOwner.TryAdd(binaryId, r.PatientId);
        foreach (var r in stored)
            if (r.Type == "Binary" && r.PatientId is null && binaryOwner.TryGetValue(r.Id, out var owner))
                r.PatientId = owner;

        var patients = served.OfType<Patient>().Select(Summarize).ToList();
        var unique = stored.DistinctBy(r => Key(r.Type, r.Id)).ToList();
        return new PatientStore(patients, unique);
    }

    private static PatientSummary Summarize(Patient p)
    {
        var name = p.Name.FirstOrDefault();
        var display = name is null
            ? p.Id ?? ""
            : string.Join(' ', name.Given.Append(name.Family).Where(s => !string.IsNullOrEmpty(s)));
        return new PatientSummary(p.Id ?? "", display, p.BirthDate ?? "");
    }

    private static string Key(string type, string id) => string.Concat(type, "/", id);
}

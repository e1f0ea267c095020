using Hl7.Fhir.Model;
using SandboxEhr.Fhir;
using SandboxEhr.Hospitals;

namespace SandboxEhr.Data;

/// <summary>
/// Generates one hospital's synthetic patients with Hl7.Fhir.R4 models in US Core shapes. Everything
/// comes from a seed derived from the hospital id (each patient from its own sub-seed, so the result
/// does not depend on thread timing): the same input gives byte-identical resources at every start.
/// </summary>
public sealed class DataGenerator(HospitalInfo info, VendorProfile profile, SandboxDataOptions options)
{
    /// <summary>The generated world's "now": every date and lastUpdated is at or before it.</summary>
    public static readonly DateTimeOffset Epoch = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Patient index 0 of every generated hospital is this person (same name and birth date, a
    /// different id and record at each), so record matching across hospitals can be exercised.
    /// </summary>
    public static readonly (string Given, string Middle, string Family, string BirthDate, AdministrativeGender Gender) SharedPerson =
        ("Eleanor", "May", "Whitaker", "1958-03-14", AdministrativeGender.Female);

    internal HospitalInfo Info => info;
    internal VendorProfile Profile => profile;
    internal Organization Hospital { get; private set; } = null!;
    internal Organization? Payer { get; private set; }
    internal List<Practitioner> Practitioners { get; } = [];
    internal Dictionary<string, Medication> MedicationsByRxNorm { get; } = new(StringComparer.Ordinal);

    public List<Resource> Generate()
    {
        var seed = StableHash(info.Id);
        var rng = new Random(seed);
        var shared = CreateSharedResources(rng);

        var count = Math.Max(1, options.PatientsPerHospital);
        var perPatient = new List<Resource>[count];
        Parallel.For(0, count, i =>
            perPatient[i] = new PatientBuilder(this, i, EncounterCount(i), new Random(HashCombine(seed, i))).Build());

        var all = new List<Resource>(shared);
        foreach (var list in perPatient)
            all.AddRange(list);
        return all;
    }

    /// <summary>Visits per patient, which drives its size: a few dozen resources up to several thousand.</summary>
    private int EncounterCount(int index)
    {
        var sizeRng = new Random(HashCombine(StableHash(info.Id + "/size"), index));
        if (index == 1 && options.IncludeLargePatient)
            return profile.Name switch { "epic" => 420, "cerner" => 330, _ => 120 };
        if (index % 7 == 3)
            return sizeRng.Next(60, 110);
        return sizeRng.Next(1, 24);
    }

    private List<Resource> CreateSharedResources(Random rng)
    {
        var stamp = Epoch.AddDays(-400);
        Hospital = new Organization
        {
            Id = NewId(rng),
            Meta = new Meta { LastUpdated = stamp },
            Identifier = [new Identifier(Terminology.Npi, Digits(rng, 10))],
            Active = true,
            Type = [Concept("http://terminology.hl7.org/CodeSystem/organization-type", profile.Name == "payer" ? "pay" : "prov",
                profile.Name == "payer" ? "Payer" : "Healthcare Provider")],
            Name = info.Name,
            Telecom = [new ContactPoint(ContactPoint.ContactPointSystem.Phone, ContactPoint.ContactPointUse.Work, Phone(rng))],
            Address = [Address(rng)],
        };
        var resources = new List<Resource> { Hospital };
        if (profile.Name == "payer")
            Payer = Hospital;

        for (var i = 0; i < 8; i++)
        {
            var female = rng.Next(2) == 0;
            var practitioner = new Practitioner
            {
                Id = NewId(rng),
                Meta = new Meta { LastUpdated = stamp.AddDays(i) },
                Identifier = [new Identifier(Terminology.Npi, Digits(rng, 10))],
                Active = true,
                Name =
                [
                    new HumanName
                    {
                        Use = HumanName.NameUse.Official,
                        Family = Pick(rng, Terminology.FamilyNames),
                        Given = [Pick(rng, female ? Terminology.FemaleNames : Terminology.MaleNames)],
                        Prefix = ["Dr."],
                    },
                ],
                Telecom = [new ContactPoint(ContactPoint.ContactPointSystem.Phone, ContactPoint.ContactPointUse.Work, Phone(rng))],
                Gender = female ? AdministrativeGender.Female : AdministrativeGender.Male,
            };
            Practitioners.Add(practitioner);
            resources.Add(practitioner);
        }

        foreach (var code in Terminology.Medications)
        {
            var medication = new Medication
            {
                Id = NewId(rng),
                Meta = new Meta { LastUpdated = stamp },
                Code = Concept(code),
                Status = Medication.MedicationStatusCodes.Active,
            };
            MedicationsByRxNorm[code.Value] = medication;
            resources.Add(medication);
        }
        return resources;
    }

    internal Address Address(Random rng) => new()
    {
        Use = Hl7.Fhir.Model.Address.AddressUse.Home,
        Line = [$"{rng.Next(10, 9999)} {Pick(rng, Terminology.Streets)}"],
        City = info.City,
        State = info.State,
        PostalCode = info.Zip,
        Country = "US",
    };

    internal static CodeableConcept Concept(Code code) =>
        new() { Coding = [new Coding(code.System, code.Value, code.Display)], Text = code.Display };

    internal static CodeableConcept Concept(string system, string code, string display) =>
        new() { Coding = [new Coding(system, code, display)], Text = display };

    internal static T Pick<T>(Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    /// <summary>A GUID-shaped id drawn from the seeded generator (never from Guid.NewGuid, which is not repeatable).</summary>
    internal static string NewId(Random rng)
    {
        Span<byte> bytes = stackalloc byte[16];
        rng.NextBytes(bytes);
        return new Guid(bytes).ToString();
    }

    internal static string Digits(Random rng, int length)
    {
        var chars = new char[length];
        chars[0] = (char)('1' + rng.Next(9));
        for (var i = 1; i < length; i++)
            chars[i] = (char)('0' + rng.Next(10));
        return new string(chars);
    }

    internal static string Phone(Random rng) => $"555-{rng.Next(200, 999)}-{rng.Next(1000, 9999)}";

    /// <summary>FNV-1a: string.GetHashCode is randomized per process, this is not.</summary>
    internal static int StableHash(string value)
    {
        unchecked
        {
            var hash = 2166136261u;
            foreach (var c in value)
            {
                hash ^= c;
                hash *= 16777619u;
            }
            return (int)(hash & 0x7FFFFFFF);
        }
    }

    internal static int HashCombine(int seed, int index) => StableHash($"{seed}:{index}");
}

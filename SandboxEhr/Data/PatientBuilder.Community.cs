using Hl7.Fhir.Model;
using static SandboxEhr.Data.DataGenerator;

namespace SandboxEhr.Data;

/// <summary>
/// What the community profile adds to a visit, beyond US Core: the order (ServiceRequest), the imaging
/// study it led to, a pharmacy dispense, and the hospital's claim for the visit.
/// </summary>
internal sealed partial class PatientBuilder
{
    private static readonly Code[] ImagingOrders =
    [
        new(Terminology.Loinc, "36643-5", "XR Chest 2 Views"),
        new(Terminology.Loinc, "24627-2", "CT Chest"),
        new(Terminology.Loinc, "30746-2", "US Abdomen"),
    ];

    private static readonly Code[] LabOrders =
    [
        new(Terminology.Loinc, "24323-8", "Comprehensive metabolic panel"),
        new(Terminology.Loinc, "58410-2", "CBC panel"),
    ];

    private const string DicomModalities = "http://dicom.nema.org/resources/ontology/DCM";

    private void CreateCommunityExtras(Visit visit)
    {
        if (rng.Next(10) < 5)
        {
            var imaging = rng.Next(2) == 0;
            var code = imaging ? Pick(rng, ImagingOrders) : Pick(rng, LabOrders);
            var order = new ServiceRequest
            {
                Id = NewId(rng),
                Meta = new Meta { LastUpdated = Stamp(visit.End) },
                Status = RequestStatus.Completed,
                Intent = RequestIntent.Order,
                Category = [imaging
                    ? Concept(Terminology.Snomed, "363679005", "Imaging")
                    : Concept(Terminology.Snomed, "108252007", "Laboratory procedure")],
                Code = Concept(code),
                Subject = _patientRef,
                Encounter = Ref(visit.Encounter),
                AuthoredOn = visit.Start.ToString("yyyy-MM-ddTHH:mm:ssK"),
                Requester = Ref(visit.Practitioner),
            };
            _out.Add(order);
            if (imaging)
            {
                _out.Add(new ImagingStudy
                {
                    Id = NewId(rng),
                    Meta = new Meta { LastUpdated = Stamp(visit.End) },
                    Status = ImagingStudy.ImagingStudyStatus.Available,
                    Modality = [new Coding(DicomModalities, code.Display.StartsWith("CT", StringComparison.Ordinal) ? "CT"
                        : code.Display.StartsWith("US", StringComparison.Ordinal) ? "US" : "DX")],
                    Subject = _patientRef,
                    Encounter = Ref(visit.Encounter),
                    Started = visit.Start.AddMinutes(20).ToString("yyyy-MM-ddTHH:mm:ssK"),
                    BasedOn = [Ref(order)],
                    NumberOfSeries = 1,
                    NumberOfInstances = rng.Next(1, 40),
                    Description = code.Display,
                });
            }
        }
        if (rng.Next(10) < 3)
        {
            var code = Pick(rng, Terminology.Medications);
            var medication = hospital.MedicationsByRxNorm[code.Value];
            _out.Add(new MedicationDispense
            {
                Id = NewId(rng),
                Meta = new Meta { LastUpdated = Stamp(visit.End) },
                Status = MedicationDispense.MedicationDispenseStatusCodes.Completed,
                Medication = new ResourceReference($"Medication/{medication.Id}", code.Display),
                Subject = _patientRef,
                Context = Ref(visit.Encounter),
                Quantity = new Quantity { Value = 30, Unit = "tablet" },
                DaysSupply = new Quantity { Value = 30, Unit = "days" },
                WhenHandedOver = visit.End.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssK"),
            });
        }
        _out.Add(new Claim
        {
            Id = NewId(rng),
            Meta = new Meta { LastUpdated = Stamp(visit.End.AddDays(2)) },
            Status = FinancialResourceStatusCodes.Active,
            Type = Concept("http://terminology.hl7.org/CodeSystem/claim-type", "institutional", "Institutional"),
            Use = ClaimUseCode.Claim,
            Patient = _patientRef,
            Created = visit.End.AddDays(1).ToString("yyyy-MM-dd"),
            Provider = Ref(hospital.Hospital),
            Priority = Concept("http://terminology.hl7.org/CodeSystem/processpriority", "normal", "Normal"),
            Insurance = [new Claim.InsuranceComponent { Sequence = 1, Focal = true, Coverage = new ResourceReference { Display = "Self-pay" } }],
            Item = [new Claim.ItemComponent
            {
                Sequence = 1,
                ProductOrService = Concept("http://www.ama-assn.org/go/cpt", "99213", "Office visit"),
                Encounter = [Ref(visit.Encounter)],
                Net = new Money { Value = rng.Next(80, 900), Currency = Money.Currencies.USD },
            }],
        });
    }
}

using System.Security.Cryptography;
using System.Text;
using Hl7.Fhir.Model;
using static SandboxEhr.Data.DataGenerator;

namespace SandboxEhr.Data;

/// <summary>One generated patient: demographics, standing problems, then a history of visits, each
/// visit bringing its vitals, labs, diagnoses, orders, notes (and claims at a payer).</summary>
internal sealed partial class PatientBuilder(DataGenerator hospital, int index, int encounterCount, Random rng)
{
    private readonly List<Resource> _out = [];
    private readonly List<Condition> _problems = [];
    private readonly List<(Coverage Coverage, DateTimeOffset Start)> _coverages = [];
    private string _patientId = "";
    private ResourceReference _patientRef = null!;
    private Practitioner _pcp = null!;

    private bool Serves(string type) => hospital.Profile.ServesCompartment(type);
    private bool IsPayer => hospital.Profile.Name == "payer";

    public List<Resource> Build()
    {
        var patient = CreatePatient();
        _pcp = Pick(rng, hospital.Practitioners);

        var ageYears = Epoch.Year - int.Parse(patient.BirthDate![..4]);
        var historyYears = Math.Clamp(ageYears - 1, 1, encounterCount > 100 ? 14 : 8);
        var historyStart = Epoch.AddDays(-365.25 * historyYears);
        var visits = Enumerable.Range(0, encounterCount)
            .Select(_ => historyStart.AddMinutes(rng.NextDouble() * (Epoch - historyStart).TotalMinutes * 0.995))
            .Select(t => new DateTimeOffset(t.Year, t.Month, t.Day, 8 + rng.Next(9), rng.Next(4) * 15, 0, TimeSpan.Zero))
            .Order()
            .ToList();
        var first = visits.Count > 0 ? visits[0] : Epoch.AddDays(-30);

        if (IsPayer)
            CreateCoverages(first);
        CreateProblems(first, encounterCount > 100 ? 6 : rng.Next(0, 4));
        CreateAllergies(first);
        foreach (var start in visits)
            CreateVisit(start);
        CreateCarePlanning(first);

        patient.Meta!.LastUpdated = visits.Count > 0 ? Stamp(visits[^1]) : first;
        return _out;
    }

    private Patient CreatePatient()
    {
        var shared = index == 0;
        var gender = shared ? SharedPerson.Gender : rng.Next(2) == 0 ? AdministrativeGender.Female : AdministrativeGender.Male;
        var given = shared ? SharedPerson.Given
            : Pick(rng, gender == AdministrativeGender.Female ? Terminology.FemaleNames : Terminology.MaleNames);
        var middle = shared ? SharedPerson.Middle
            : Pick(rng, gender == AdministrativeGender.Female ? Terminology.FemaleNames : Terminology.MaleNames);
        var family = shared ? SharedPerson.Family : Pick(rng, Terminology.FamilyNames);
        var birth = shared ? SharedPerson.BirthDate
            : new DateOnly(1940, 1, 1).AddDays(rng.Next(0, 365 * 62)).ToString("yyyy-MM-dd");

        _patientId = hospital.Profile.Name switch
        {
            "epic" => "e" + Alphanumeric(23),
            "cerner" => Digits(rng, 8),
            "community" => "c" + Digits(rng, 10),
            _ => "mbr-" + Digits(rng, 9),
        };
        _patientRef = new ResourceReference($"Patient/{_patientId}", $"{given} {family}");
        var mrnSystem = $"urn:sandbox:{hospital.Info.Id}:mrn";
        var patient = new Patient
        {
            Id = _patientId,
            Meta = new Meta
            {
                LastUpdated = Epoch,
                Profile = ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"],
            },
            Identifier =
            [
                new Identifier(mrnSystem, Digits(rng, 7))
                {
                    Use = Identifier.IdentifierUse.Usual,
                    Type = Concept(Terminology.IdentifierType, IsPayer ? "MB" : "MR", IsPayer ? "Member Number" : "Medical Record Number"),
                },
            ],
            Active = true,
            Name = [new HumanName { Use = HumanName.NameUse.Official, Family = family, Given = [given, middle] }],
            Telecom =
            [
                new ContactPoint(ContactPoint.ContactPointSystem.Phone, ContactPoint.ContactPointUse.Home, Phone(rng)),
                new ContactPoint(ContactPoint.ContactPointSystem.Email, ContactPoint.ContactPointUse.Home,
                    $"{given}.{family}{rng.Next(10, 99)}@example.com".ToLowerInvariant()),
            ],
            Gender = gender,
            BirthDate = birth,
            Address = [hospital.Address(rng)],
            Communication =
            [
                new Patient.CommunicationComponent
                {
                    Language = Concept("urn:ietf:bcp:47", "en-US", "English (United States)"),
                    Preferred = true,
                },
            ],
            GeneralPractitioner = [Ref(_pcp ?? hospital.Practitioners[0])],
            ManagingOrganization = Ref(hospital.Hospital),
        };
        _out.Add(patient);
        return patient;
    }

    private void CreateCoverages(DateTimeOffset first)
    {
        var payer = hospital.Payer ?? hospital.Hospital;
        var plans = rng.Next(3) == 0 ? 2 : 1;
        var start = first.AddDays(-rng.Next(30, 400));
        for (var i = 0; i < plans; i++)
        {
            var current = i == plans - 1;
            var end = current ? (DateTimeOffset?)null : start.AddDays(rng.Next(200, 700));
            var coverage = new Coverage
            {
                Id = NewId(rng),
                Meta = new Meta { LastUpdated = Stamp(start) },
                Status = current ? FinancialResourceStatusCodes.Active : FinancialResourceStatusCodes.Cancelled,
                Type = Concept(Terminology.ActCode, "HIP", "health insurance plan policy"),
                SubscriberId = "W" + Digits(rng, 9),
                Beneficiary = _patientRef,
                Relationship = Concept(Terminology.SubscriberRelationship, "self", "Self"),
                Period = new Period(new FhirDateTime(start), end is null ? null : new FhirDateTime(end.Value)),
                Payor = [Ref(payer)],
                Class =
                [
                    new Coverage.ClassComponent
                    {
                        Type = Concept(Terminology.CoverageClass, "group", "Group"),
                        Value = "GRP-" + Digits(rng, 5),
                        Name = "Sandbox Employer Group",
                    },
                    new Coverage.ClassComponent
                    {
                        Type = Concept(Terminology.CoverageClass, "plan", "Plan"),
                        Value = current ? "PPO-GOLD" : "HMO-SILVER",
                        Name = current ? "Summit PPO Gold" : "Summit HMO Silver",
                    },
                ],
            };
            _coverages.Add((coverage, start));
            _out.Add(coverage);
            if (end is not null)
                start = end.Value.AddDays(1);
        }
    }

    private void CreateProblems(DateTimeOffset first, int count)
    {
        foreach (var code in Terminology.ChronicConditions.OrderBy(_ => rng.Next()).Take(count).ToList())
        {
            var onset = first.AddDays(-rng.Next(0, 2000));
            var recorded = onset > first ? onset : first;
            var condition = new Condition
            {
                Id = NewId(rng),
                Meta = new Meta { LastUpdated = Stamp(recorded) },
                ClinicalStatus = Concept(Terminology.ConditionClinical, "active", "Active"),
                VerificationStatus = Concept(Terminology.ConditionVerification, "confirmed", "Confirmed"),
                Category = [Concept(Terminology.ConditionCategory, "problem-list-item", "Problem List Item")],
                Code = Concept(code),
                Subject = _patientRef,
                Onset = new FhirDateTime(onset.ToString("yyyy-MM-dd")),
                RecordedDate = recorded.ToString("yyyy-MM-dd"),
                Recorder = Ref(_pcp),
            };
            _problems.Add(condition);
            _out.Add(condition);
        }
    }

    private void CreateAllergies(DateTimeOffset first)
    {
        if (!Serves("AllergyIntolerance"))
            return;
        foreach (var (code, category) in Terminology.Allergies.OrderBy(_ => rng.Next()).Take(rng.Next(0, 3)).ToList())
        {
            var recorded = first.AddDays(rng.Next(0, 60));
            _out.Add(new AllergyIntolerance
            {
                Id = NewId(rng),
                Meta = new Meta { LastUpdated = Stamp(recorded) },
                ClinicalStatus = Concept(Terminology.AllergyClinical, "active", "Active"),
                VerificationStatus = Concept(Terminology.AllergyVerification, "confirmed", "Confirmed"),
                Type = AllergyIntolerance.AllergyIntoleranceType.Allergy,
                Category = [Enum.Parse<AllergyIntolerance.AllergyIntoleranceCategory>(category, ignoreCase: true)],
                Criticality = rng.Next(4) == 0 ? AllergyIntolerance.AllergyIntoleranceCriticality.High
                    : AllergyIntolerance.AllergyIntoleranceCriticality.Low,
                Code = Concept(code),
                Patient = _patientRef,
                RecordedDate = recorded.ToString("yyyy-MM-dd"),
                Reaction =
                [
                    new AllergyIntolerance.ReactionComponent
                    {
                        Manifestation = [Concept(Pick(rng, Terminology.Reactions))],
                        Severity = AllergyIntolerance.AllergyIntoleranceSeverity.Moderate,
                    },
                ],
            });
        }
    }

    private void CreateVisit(DateTimeOffset start)
    {
        var type = rng.Next(10) switch { < 4 => 0, < 7 => 1, < 9 => 2, _ => 3 };
        var emergency = type == 3;
        var checkup = type == 0;
        var end = start.AddMinutes(emergency ? rng.Next(120, 480) : rng.Next(15, 60));
        var practitioner = rng.Next(3) == 0 ? Pick(rng, hospital.Practitioners) : _pcp;
        var encounter = new Encounter
        {
            Id = NewId(rng),
            Meta = new Meta { LastUpdated = Stamp(end) },
            Identifier = [new Identifier($"urn:sandbox:{hospital.Info.Id}:encounter", Digits(rng, 9))],
            Status = Encounter.EncounterStatus.Finished,
            Class = new Coding(Terminology.ActCode, emergency ? "EMER" : "AMB", emergency ? "emergency" : "ambulatory"),
            Type = [Concept(Terminology.EncounterTypes[type])],
            Subject = _patientRef,
            Participant = [new Encounter.ParticipantComponent { Individual = Ref(practitioner) }],
            Period = new Period(new FhirDateTime(start), new FhirDateTime(end)),
            ServiceProvider = Ref(hospital.Hospital),
        };
        _out.Add(encounter);
        var context = new Visit(encounter, start, end, practitioner);

        if (checkup || emergency || rng.Next(10) < 6)
            CreateVitals(context);
        if (rng.Next(100) < (checkup ? 60 : 25))
            CreateLabs(context);
        Condition? diagnosis = null;
        if (!checkup && rng.Next(10) < 6)
            diagnosis = CreateDiagnosis(context);
        if (rng.Next(10) < 2)
            CreateProcedure(context);
        if (diagnosis is not null && rng.Next(10) < 5)
            CreateMedicationRequest(context, Terminology.Medications[6 + rng.Next(4)], chronic: false);
        if (_problems.Count > 0 && rng.Next(10) < 3)
            CreateMedicationRequest(context, Terminology.Medications[rng.Next(6)], chronic: true);
        if (checkup && rng.Next(10) < 4)
            CreateImmunization(context);
        if (checkup && rng.Next(10) < 3)
            CreateSocialHistory(context);
        if (checkup && rng.Next(10) < 3)
            CreateSurvey(context);
        if (Serves("DocumentReference") && rng.Next(10) < 3)
            CreateNote(context, emergency ? Terminology.NoteTypes[2] : Pick(rng, Terminology.NoteTypes[..2]));
        if (IsPayer)
            CreateClaim(context);
        // Only the community profile serves these: the other hospitals' generated data stays as it was.
        if (Serves("ServiceRequest"))
            CreateCommunityExtras(context);
    }

    private sealed record Visit(Encounter Encounter, DateTimeOffset Start, DateTimeOffset End, Practitioner Practitioner);

    private Observation NewObservation(Visit visit, string category, string categoryDisplay, Code code, DateTimeOffset at)
    {
        var observation = new Observation
        {
            Id = NewId(rng),
            Meta = new Meta { LastUpdated = Stamp(at) },
            Status = ObservationStatus.Final,
            Category = [Concept(Terminology.ObservationCategory, category, categoryDisplay)],
            Code = Concept(code),
            Subject = _patientRef,
            Encounter = Ref(visit.Encounter),
            Effective = new FhirDateTime(at),
            Issued = at.AddMinutes(rng.Next(1, 90)),
            Performer = [Ref(visit.Practitioner)],
        };
        _out.Add(observation);
        return observation;
    }

    private Quantity Measure(Measure m, double? center = null)
    {
        var value = center ?? m.Low + rng.NextDouble() * (m.High - m.Low);
        return new Quantity
        {
            Value = (decimal)Math.Round(value, m.Decimals),
            Unit = m.Unit,
            System = Terminology.Ucum,
            Code = m.Unit,
        };
    }

    private void CreateVitals(Visit visit)
    {
        var at = visit.Start.AddMinutes(5);
        foreach (var m in new[] { Terminology.HeartRate, Terminology.RespiratoryRate, Terminology.BodyTemperature,
                     Terminology.OxygenSaturation, Terminology.BodyWeight, Terminology.BodyHeight, Terminology.Bmi })
        {
            var observation = NewObservation(visit, "vital-signs", "Vital Signs", new Code(Terminology.Loinc, m.Loinc, m.Display), at);
            observation.Value = Measure(m);
        }
        var bp = NewObservation(visit, "vital-signs", "Vital Signs", Terminology.BloodPressurePanel, at);
        bp.Component =
        [
            new Observation.ComponentComponent
            {
                Code = Concept(new Code(Terminology.Loinc, Terminology.Systolic.Loinc, Terminology.Systolic.Display)),
                Value = Measure(Terminology.Systolic),
            },
            new Observation.ComponentComponent
            {
                Code = Concept(new Code(Terminology.Loinc, Terminology.Diastolic.Loinc, Terminology.Diastolic.Display)),
                Value = Measure(Terminology.Diastolic),
            },
        ];
    }

    private void CreateLabs(Visit visit)
    {
        var (panel, measures) = Pick(rng, Terminology.LabPanels);
        var collected = visit.Start.AddMinutes(20);
        var results = new List<Observation>();
        foreach (var m in measures)
        {
            var observation = NewObservation(visit, "laboratory", "Laboratory", new Code(Terminology.Loinc, m.Loinc, m.Display), collected);
            var value = Measure(m);
            observation.Value = value;
            var span = (m.High - m.Low) * 0.15;
            observation.ReferenceRange =
            [
                new Observation.ReferenceRangeComponent
                {
                    Low = new Quantity { Value = (decimal)Math.Round(m.Low + span, m.Decimals), Unit = m.Unit, System = Terminology.Ucum, Code = m.Unit },
                    High = new Quantity { Value = (decimal)Math.Round(m.High - span, m.Decimals), Unit = m.Unit, System = Terminology.Ucum, Code = m.Unit },
                },
            ];
            var v = (double)value.Value!.Value;
            var flag = v < m.Low + span ? ("L", "Low") : v > m.High - span ? ("H", "High") : ("N", "Normal");
            observation.Interpretation = [Concept("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", flag.Item1, flag.Item2)];
            results.Add(observation);
        }
        if (!Serves("DiagnosticReport"))
            return;
        var issued = collected.AddHours(rng.Next(2, 30));
        _out.Add(new DiagnosticReport
        {
            Id = NewId(rng),
            Meta = new Meta { LastUpdated = Stamp(issued) },
            Status = DiagnosticReport.DiagnosticReportStatus.Final,
            Category = [Concept(Terminology.V2Diagnostic, "LAB", "Laboratory")],
            Code = Concept(panel),
            Subject = _patientRef,
            Encounter = Ref(visit.Encounter),
            Effective = new FhirDateTime(collected),
            Issued = issued,
            Performer = [Ref(hospital.Hospital)],
            Result = results.Select(Ref).ToList(),
        });
    }

    private Condition CreateDiagnosis(Visit visit)
    {
        var resolved = visit.Start.AddDays(rng.Next(5, 30));
        var condition = new Condition
        {
            Id = NewId(rng),
            Meta = new Meta { LastUpdated = Stamp(resolved < Epoch ? resolved : visit.End) },
            ClinicalStatus = resolved < Epoch
                ? Concept(Terminology.ConditionClinical, "resolved", "Resolved")
                : Concept(Terminology.ConditionClinical, "active", "Active"),
            VerificationStatus = Concept(Terminology.ConditionVerification, "confirmed", "Confirmed"),
            Category = [Concept(Terminology.ConditionCategory, "encounter-diagnosis", "Encounter Diagnosis")],
            Code = Concept(Pick(rng, Terminology.AcuteConditions)),
            Subject = _patientRef,
            Encounter = Ref(visit.Encounter),
            Onset = new FhirDateTime(visit.Start),
            Abatement = resolved < Epoch ? new FhirDateTime(resolved) : null,
            RecordedDate = visit.Start.ToString("yyyy-MM-ddTHH:mm:ssK"),
            Recorder = Ref(visit.Practitioner),
        };
        _out.Add(condition);
        return condition;
    }

    private void CreateProcedure(Visit visit)
    {
        var code = Pick(rng, Terminology.Procedures);
        var start = visit.Start.AddMinutes(rng.Next(5, 30));
        _out.Add(new Procedure
        {
            Id = NewId(rng),
            Meta = new Meta { LastUpdated = Stamp(visit.End) },
            Status = EventStatus.Completed,
            Code = Concept(code),
            Subject = _patientRef,
            Encounter = Ref(visit.Encounter),
            Performed = new Period(new FhirDateTime(start), new FhirDateTime(start.AddMinutes(rng.Next(5, 40)))),
            Performer = [new Procedure.PerformerComponent { Actor = Ref(visit.Practitioner) }],
            Location = null,
        });
    }

    private void CreateMedicationRequest(Visit visit, Code code, bool chronic)
    {
        var medication = hospital.MedicationsByRxNorm[code.Value];
        var active = chronic && visit.Start > Epoch.AddDays(-365);
        _out.Add(new MedicationRequest
        {
            Id = NewId(rng),
            Meta = new Meta { LastUpdated = Stamp(visit.End) },
            Status = active ? MedicationRequest.MedicationrequestStatus.Active : MedicationRequest.MedicationrequestStatus.Completed,
            Intent = MedicationRequest.MedicationRequestIntent.Order,
            Category = [Concept(Terminology.MedRequestCategory, chronic ? "community" : "outpatient", chronic ? "Community" : "Outpatient")],
            Medication = new ResourceReference($"Medication/{medication.Id}", code.Display),
            Subject = _patientRef,
            Encounter = Ref(visit.Encounter),
            AuthoredOn = visit.End.ToString("yyyy-MM-ddTHH:mm:ssK"),
            Requester = Ref(visit.Practitioner),
            ReasonReference = chronic && _problems.Count > 0 ? [Ref(Pick(rng, _problems))] : [],
            DosageInstruction =
            [
                new Dosage
                {
                    Sequence = 1,
                    Text = chronic ? "Take 1 tablet by mouth once daily" : "Take 1 tablet by mouth every 8 hours as needed",
                    AsNeeded = new FhirBoolean(!chronic),
                },
            ],
        });
    }

    private void CreateImmunization(Visit visit)
    {
        _out.Add(new Immunization
        {
            Id = NewId(rng),
            Meta = new Meta { LastUpdated = Stamp(visit.End) },
            Status = Immunization.ImmunizationStatusCodes.Completed,
            VaccineCode = Concept(Pick(rng, Terminology.Vaccines)),
            Patient = _patientRef,
            Encounter = Ref(visit.Encounter),
            Occurrence = new FhirDateTime(visit.Start.AddMinutes(30)),
            PrimarySource = true,
            LotNumber = "LOT" + Digits(rng, 6),
            Performer = [new Immunization.PerformerComponent { Actor = Ref(visit.Practitioner) }],
        });
    }

    private void CreateSocialHistory(Visit visit)
    {
        var observation = NewObservation(visit, "social-history", "Social History", Terminology.SmokingStatus, visit.Start.AddMinutes(10));
        observation.Value = Concept(Pick(rng, Terminology.SmokingValues));
    }

    private void CreateSurvey(Visit visit)
    {
        var observation = NewObservation(visit, "survey", "Survey", Terminology.Phq2Total, visit.Start.AddMinutes(12));
        observation.Value = new Integer(rng.Next(0, 7));
    }

    private void CreateNote(Visit visit, Code type)
    {
        var binaryId = NewId(rng);
        var pdf = rng.Next(4) == 0;
        var text = NoteText(visit, type);
        var bytes = pdf ? MinimalPdf(text) : Encoding.UTF8.GetBytes(string.Join("\n", text) + "\n");
        var contentType = pdf ? "application/pdf" : "text/plain; charset=utf-8";
        var document = new DocumentReference
        {
            Id = NewId(rng),
            Meta = new Meta { LastUpdated = Stamp(visit.End) },
            Identifier = [new Identifier("urn:ietf:rfc:3986", "urn:oid:2.25." + Digits(rng, 18))],
            Status = DocumentReferenceStatus.Current,
            DocStatus = CompositionStatus.Final,
            Type = Concept(type),
            Category = [Concept(Terminology.UsCoreDocCategory, "clinical-note", "Clinical Note")],
            Subject = _patientRef,
            Date = visit.End,
            Author = [Ref(visit.Practitioner)],
            Custodian = Ref(hospital.Hospital),
            Content =
            [
                new DocumentReference.ContentComponent
                {
                    Attachment = new Attachment
                    {
                        ContentType = contentType,
                        Url = $"Binary/{binaryId}",
                        SizeUnsignedInt = bytes.Length,
                        Hash = SHA1.HashData(bytes),
                        Title = type.Display,
                        Creation = visit.End.ToString("yyyy-MM-ddTHH:mm:ssK"),
                    },
                    Format = new Coding("http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode", "urn:ihe:iti:xds:2017:mimeTypeSufficient", "mimeType Sufficient"),
                },
            ],
            Context = new DocumentReference.ContextComponent
            {
                Encounter = [Ref(visit.Encounter)],
                Period = new Period(new FhirDateTime(visit.Start), new FhirDateTime(visit.End)),
            },
        };
        _out.Add(document);
        _out.Add(new Binary
        {
            Id = binaryId,
            Meta = new Meta { LastUpdated = Stamp(visit.End) },
            ContentType = contentType,
            SecurityContext = new ResourceReference($"DocumentReference/{document.Id}"),
            Data = bytes,
        });
    }

    private List<string> NoteText(Visit visit, Code type)
    {
        var reason = visit.Encounter.Type[0].Text;
        var lines = new List<string>
        {
            $"{type.Display} - {hospital.Info.Name}",
            $"Patient: {_patientRef.Display}    Date: {visit.Start:yyyy-MM-dd HH:mm} UTC",
            $"Clinician: {visit.Practitioner.Name[0].Prefix.FirstOrDefault()} {visit.Practitioner.Name[0].Given.First()} {visit.Practitioner.Name[0].Family}",
            "",
            $"Reason for visit: {reason}",
            "Subjective: Patient reports feeling " + Pick(rng, new[] { "well", "tired", "short of breath on exertion", "mild pain", "better than last visit" }) + ".",
            "Objective: Vital signs reviewed and within expected range for the patient.",
        };
        if (_problems.Count > 0)
            lines.Add("Active problems: " + string.Join("; ", _problems.Select(p => p.Code?.Text)));
        lines.Add("Plan: " + Pick(rng, new[] { "Continue current medications.", "Follow up in 3 months.", "Labs ordered; will call with results.", "Return if symptoms worsen." }));
        return lines;
    }

    /// <summary>A one-page PDF (Helvetica text) with a correct cross-reference table, so PDF readers open it.</summary>
    private static byte[] MinimalPdf(IReadOnlyList<string> lines)
    {
        static string Escape(string s) => s.Replace("\\", "\\\\").Replace("(", "\\(").Replace(")", "\\)");
        var content = new StringBuilder("BT /F1 11 Tf 14 TL 72 720 Td\n");
        foreach (var line in lines)
            content.Append('(').Append(Escape(line)).Append(") '\n");
        content.Append("ET");
        var stream = content.ToString();
        string[] objects =
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            $"<< /Length {Encoding.ASCII.GetByteCount(stream)} >>\nstream\n{stream}\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ];
        var pdf = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(Encoding.ASCII.GetByteCount(pdf.ToString()));
            pdf.Append($"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }
        var xref = Encoding.ASCII.GetByteCount(pdf.ToString());
        pdf.Append($"xref\n0 {objects.Length + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets)
            pdf.Append($"{offset:D10} 00000 n \n");
        pdf.Append($"trailer\n<< /Size {objects.Length + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        return Encoding.ASCII.GetBytes(pdf.ToString());
    }

    private void CreateClaim(Visit visit)
    {
        var coverage = _coverages.LastOrDefault(c => c.Start <= visit.Start).Coverage ?? _coverages[0].Coverage;
        var charged = Math.Round((decimal)(80 + rng.NextDouble() * (visit.Encounter.Class.Code == "EMER" ? 2400 : 320)), 2);
        var paid = Math.Round(charged * (decimal)(0.55 + rng.NextDouble() * 0.35), 2);
        var created = visit.End.AddDays(rng.Next(3, 21));
        var serviceCode = visit.Encounter.Type[0].Coding[0];
        _out.Add(new ExplanationOfBenefit
        {
            Id = NewId(rng),
            Meta = new Meta { LastUpdated = Stamp(created) },
            Identifier = [new Identifier($"urn:sandbox:{hospital.Info.Id}:claim", Digits(rng, 12))],
            Status = ExplanationOfBenefit.ExplanationOfBenefitStatus.Active,
            Type = Concept(Terminology.ClaimType, visit.Encounter.Class.Code == "EMER" ? "institutional" : "professional",
                visit.Encounter.Class.Code == "EMER" ? "Institutional" : "Professional"),
            Use = ClaimUseCode.Claim,
            Patient = _patientRef,
            BillablePeriod = new Period(new FhirDateTime(visit.Start), new FhirDateTime(visit.End)),
            Created = created.ToString("yyyy-MM-ddTHH:mm:ssK"),
            Insurer = Ref(hospital.Payer ?? hospital.Hospital),
            Provider = Ref(visit.Practitioner),
            Outcome = ClaimProcessingCodes.Complete,
            Insurance = [new ExplanationOfBenefit.InsuranceComponent { Focal = true, Coverage = Ref(coverage) }],
            Item =
            [
                new ExplanationOfBenefit.ItemComponent
                {
                    Sequence = 1,
                    ProductOrService = Concept(new Code(serviceCode.System ?? "", serviceCode.Code ?? "", serviceCode.Display ?? "")),
                    Serviced = new Date(visit.Start.ToString("yyyy-MM-dd")),
                    Net = new Money { Value = charged, Currency = Money.Currencies.USD },
                    Adjudication =
                    [
                        new ExplanationOfBenefit.AdjudicationComponent
                        {
                            Category = Concept(Terminology.AdjudicationCategory, "benefit", "Benefit Amount"),
                            Amount = new Money { Value = paid, Currency = Money.Currencies.USD },
                        },
                    ],
                },
            ],
            Total =
            [
                new ExplanationOfBenefit.TotalComponent
                {
                    Category = Concept(Terminology.AdjudicationCategory, "submitted", "Submitted Amount"),
                    Amount = new Money { Value = charged, Currency = Money.Currencies.USD },
                },
                new ExplanationOfBenefit.TotalComponent
                {
                    Category = Concept(Terminology.AdjudicationCategory, "benefit", "Benefit Amount"),
                    Amount = new Money { Value = paid, Currency = Money.Currencies.USD },
                },
            ],
            Payment = new ExplanationOfBenefit.PaymentComponent
            {
                Amount = new Money { Value = paid, Currency = Money.Currencies.USD },
                Date = created.ToString("yyyy-MM-dd"),
            },
        });
    }

    private void CreateCarePlanning(DateTimeOffset first)
    {
        if (Serves("CareTeam"))
        {
            var nurse = hospital.Practitioners.First(p => p.Id != _pcp.Id);
            _out.Add(new CareTeam
            {
                Id = NewId(rng),
                Meta = new Meta { LastUpdated = Stamp(first) },
                Status = CareTeam.CareTeamStatus.Active,
                Category = [Concept(Terminology.Loinc, "LA27976-2", "Encounter-focused care team")],
                Name = "Primary care team",
                Subject = _patientRef,
                Period = new Period { StartElement = new FhirDateTime(first) },
                Participant =
                [
                    new CareTeam.ParticipantComponent
                    {
                        Role = [Concept(Terminology.Snomed, "446050000", "Primary care physician")],
                        Member = Ref(_pcp),
                    },
                    new CareTeam.ParticipantComponent
                    {
                        Role = [Concept(Terminology.Snomed, "224535009", "Registered nurse")],
                        Member = Ref(nurse),
                    },
                    new CareTeam.ParticipantComponent
                    {
                        Role = [Concept(Terminology.Snomed, "116154003", "Patient")],
                        Member = _patientRef,
                    },
                ],
                ManagingOrganization = [Ref(hospital.Hospital)],
            });
        }
        if (Serves("CarePlan") && _problems.Count > 0)
        {
            var code = Pick(rng, Terminology.CarePlans);
            _out.Add(new CarePlan
            {
                Id = NewId(rng),
                Meta = new Meta { LastUpdated = Stamp(first.AddDays(1)) },
                Text = new Narrative
                {
                    Status = Narrative.NarrativeStatus.Generated,
                    Div = $"<div xmlns=\"http://www.w3.org/1999/xhtml\">Care plan: {code.Display}</div>",
                },
                Status = RequestStatus.Active,
                Intent = CarePlan.CarePlanIntent.Plan,
                Category =
                [
                    Concept(Terminology.UsCoreCarePlanCategory, "assess-plan", "Assessment and Plan of Treatment"),
                    Concept(code),
                ],
                Subject = _patientRef,
                Period = new Period { StartElement = new FhirDateTime(first) },
                Addresses = _problems.Select(Ref).ToList(),
            });
        }
        if (Serves("Goal"))
        {
            foreach (var description in Terminology.Goals.OrderBy(_ => rng.Next()).Take(rng.Next(0, 3)).ToList())
            {
                _out.Add(new Goal
                {
                    Id = NewId(rng),
                    Meta = new Meta { LastUpdated = Stamp(first.AddDays(1)) },
                    LifecycleStatus = Goal.GoalLifecycleStatus.Active,
                    Description = new CodeableConcept { Text = description },
                    Subject = _patientRef,
                    Target = [new Goal.TargetComponent { Due = new Date(first.AddDays(180).ToString("yyyy-MM-dd")) }],
                });
            }
        }
        if (Serves("Device") && rng.Next(10) < 3)
        {
            var udi = "(01)" + Digits(rng, 14) + "(11)" + first.ToString("yyMMdd") + "(10)" + Digits(rng, 6);
            _out.Add(new Device
            {
                Id = NewId(rng),
                Meta = new Meta { LastUpdated = Stamp(first) },
                UdiCarrier = [new Device.UdiCarrierComponent { DeviceIdentifier = udi[4..18], CarrierHRF = udi }],
                Status = Device.FHIRDeviceStatus.Active,
                Type = Concept(Pick(rng, Terminology.Devices)),
                Patient = _patientRef,
            });
        }
    }

    /// <summary>When the record was last written: shortly after the event, never after the epoch.</summary>
    private DateTimeOffset Stamp(DateTimeOffset at)
    {
        var stamped = at.AddSeconds(rng.Next(30, 3600));
        return stamped < Epoch ? stamped : Epoch;
    }

    private static ResourceReference Ref(Resource resource) => new($"{resource.TypeName}/{resource.Id}");

    private string Alphanumeric(int length)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        var chars = new char[length];
        for (var i = 0; i < length; i++)
            chars[i] = alphabet[rng.Next(alphabet.Length)];
        return new string(chars);
    }
}

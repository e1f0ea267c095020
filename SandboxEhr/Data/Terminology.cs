namespace SandboxEhr.Data;

/// <summary>A code of a code system, with the display text the generator writes beside it.</summary>
public sealed record Code(string System, string Value, string Display);

/// <summary>A lab or vital sign: LOINC code, UCUM unit and a plausible adult range.</summary>
public sealed record Measure(string Loinc, string Display, string Unit, double Low, double High, int Decimals);

/// <summary>Real codes (LOINC, SNOMED CT, RxNorm, CVX) the generator draws from.</summary>
public static class Terminology
{
    public const string Loinc = "http://loinc.org";
    public const string Snomed = "http://snomed.info/sct";
    public const string RxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
    public const string Cvx = "http://hl7.org/fhir/sid/cvx";
    public const string Ucum = "http://unitsofmeasure.org";
    public const string ObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
    public const string ConditionCategory = "http://terminology.hl7.org/CodeSystem/condition-category";
    public const string ConditionClinical = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    public const string ConditionVerification = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
    public const string AllergyClinical = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
    public const string AllergyVerification = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification";
    public const string V2Diagnostic = "http://terminology.hl7.org/CodeSystem/v2-0074";
    public const string ActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    public const string MedRequestCategory = "http://terminology.hl7.org/CodeSystem/medicationrequest-category";
    public const string UsCoreDocCategory = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category";
    public const string UsCoreCarePlanCategory = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category";
    public const string ClaimType = "http://terminology.hl7.org/CodeSystem/claim-type";
    public const string SubscriberRelationship = "http://terminology.hl7.org/CodeSystem/subscriber-relationship";
    public const string CoverageClass = "http://terminology.hl7.org/CodeSystem/coverage-class";
    public const string AdjudicationCategory = "http://terminology.hl7.org/CodeSystem/adjudication";
    public const string IdentifierType = "http://terminology.hl7.org/CodeSystem/v2-0203";
    public const string Npi = "http://hl7.org/fhir/sid/us-npi";

    public static readonly Measure HeartRate = new("8867-4", "Heart rate", "/min", 55, 105, 0);
    public static readonly Measure RespiratoryRate = new("9279-1", "Respiratory rate", "/min", 12, 20, 0);
    public static readonly Measure BodyTemperature = new("8310-5", "Body temperature", "Cel", 36.1, 37.8, 1);
    public static readonly Measure OxygenSaturation = new("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 93, 100, 0);
    public static readonly Measure BodyWeight = new("29463-7", "Body weight", "kg", 48, 118, 1);
    public static readonly Measure BodyHeight = new("8302-2", "Body height", "cm", 152, 192, 1);
    public static readonly Measure Bmi = new("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", 18, 38, 1);
    public static readonly Measure Systolic = new("8480-6", "Systolic blood pressure", "mm[Hg]", 104, 158, 0);
    public static readonly Measure Diastolic = new("8462-4", "Diastolic blood pressure", "mm[Hg]", 62, 96, 0);
    public static readonly Code BloodPressurePanel = new(Loinc, "85354-9", "Blood pressure panel with all children optional");

    /// <summary>Lab panels: the DiagnosticReport code and the Observations it reports.</summary>
    public static readonly (Code Panel, Measure[] Results)[] LabPanels =
    [
        (new(Loinc, "51990-0", "Basic metabolic panel - Blood"),
        [
            new("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 70, 140, 0),
            new("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", 7, 22, 0),
            new("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.6, 1.4, 2),
            new("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 8.5, 10.4, 1),
            new("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 135, 146, 0),
            new("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.5, 5.2, 1),
            new("2075-0", "Chloride [Moles/volume] in Serum or Plasma", "mmol/L", 97, 108, 0),
            new("2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "mmol/L", 22, 30, 0),
        ]),
        (new(Loinc, "58410-2", "CBC panel - Blood by Automated count"),
        [
            new("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 3.8, 11, 1),
            new("789-8", "Erythrocytes [#/volume] in Blood by Automated count", "10*6/uL", 4, 5.9, 2),
            new("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 11.5, 17.5, 1),
            new("4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "%", 35, 51, 1),
            new("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 150, 420, 0),
        ]),
        (new(Loinc, "57698-3", "Lipid panel with direct LDL - Serum or Plasma"),
        [
            new("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 140, 260, 0),
            new("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", 60, 240, 0),
            new("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "mg/dL", 35, 80, 0),
            new("18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "mg/dL", 60, 170, 0),
        ]),
        (new(Loinc, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
        [
            new("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4.8, 9.5, 1),
        ]),
    ];

    public static readonly Code SmokingStatus = new(Loinc, "72166-2", "Tobacco smoking status");
    public static readonly Code[] SmokingValues =
    [
        new(Snomed, "266919005", "Never smoked tobacco (finding)"),
        new(Snomed, "8517006", "Ex-smoker (finding)"),
        new(Snomed, "449868002", "Smokes tobacco daily (finding)"),
    ];
    public static readonly Code Phq2Total = new(Loinc, "55758-7", "Patient Health Questionnaire 2 item (PHQ-2) total score [Reported]");

    /// <summary>Long-standing problems (problem-list-item).</summary>
    public static readonly Code[] ChronicConditions =
    [
        new(Snomed, "38341003", "Hypertensive disorder, systemic arterial (disorder)"),
        new(Snomed, "44054006", "Diabetes mellitus type 2 (disorder)"),
        new(Snomed, "55822004", "Hyperlipidemia (disorder)"),
        new(Snomed, "195967001", "Asthma (disorder)"),
        new(Snomed, "15777000", "Prediabetes (finding)"),
        new(Snomed, "162864005", "Body mass index 30+ - obesity (finding)"),
        new(Snomed, "271737000", "Anemia (disorder)"),
        new(Snomed, "64859006", "Osteoporosis (disorder)"),
        new(Snomed, "53741008", "Coronary arteriosclerosis (disorder)"),
        new(Snomed, "35489007", "Depressive disorder (disorder)"),
        new(Snomed, "239873007", "Osteoarthritis of knee (disorder)"),
        new(Snomed, "13645005", "Chronic obstructive lung disease (disorder)"),
    ];

    /// <summary>Short illnesses diagnosed at a visit (encounter-diagnosis).</summary>
    public static readonly Code[] AcuteConditions =
    [
        new(Snomed, "444814009", "Viral sinusitis (disorder)"),
        new(Snomed, "195662009", "Acute viral pharyngitis (disorder)"),
        new(Snomed, "10509002", "Acute bronchitis (disorder)"),
        new(Snomed, "43878008", "Streptococcal sore throat (disorder)"),
        new(Snomed, "65363002", "Otitis media (disorder)"),
        new(Snomed, "40055000", "Chronic sinusitis (disorder)"),
        new(Snomed, "68566005", "Urinary tract infectious disease (disorder)"),
        new(Snomed, "283371005", "Laceration of forearm (disorder)"),
    ];

    public static readonly Code[] Procedures =
    [
        new(Snomed, "428191000124101", "Documentation of current medications (procedure)"),
        new(Snomed, "171207006", "Depression screening (procedure)"),
        new(Snomed, "73761001", "Colonoscopy (procedure)"),
        new(Snomed, "117015009", "Throat culture (procedure)"),
        new(Snomed, "104091002", "Hemoglobin / Hematocrit / Platelet count (procedure)"),
        new(Snomed, "710824005", "Assessment of health and social care needs (procedure)"),
        new(Snomed, "288086009", "Suture open wound (procedure)"),
    ];

    public static readonly Code[] Medications =
    [
        new(RxNorm, "314076", "lisinopril 10 MG Oral Tablet"),
        new(RxNorm, "197361", "amlodipine 5 MG Oral Tablet"),
        new(RxNorm, "316672", "simvastatin 10 MG Oral Tablet"),
        new(RxNorm, "860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"),
        new(RxNorm, "316049", "hydrochlorothiazide 25 MG Oral Tablet"),
        new(RxNorm, "309362", "clopidogrel 75 MG Oral Tablet"),
        new(RxNorm, "313782", "acetaminophen 325 MG Oral Tablet"),
        new(RxNorm, "310965", "ibuprofen 200 MG Oral Tablet"),
        new(RxNorm, "562251", "amoxicillin 250 MG / clavulanate 125 MG Oral Tablet"),
        new(RxNorm, "834102", "penicillin V potassium 500 MG Oral Tablet"),
        new(RxNorm, "895994", "120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler"),
        new(RxNorm, "745679", "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler"),
    ];

    public static readonly Code[] Vaccines =
    [
        new(Cvx, "140", "Influenza, seasonal, injectable, preservative free"),
        new(Cvx, "113", "Td (adult) preservative free"),
        new(Cvx, "115", "Tdap"),
        new(Cvx, "133", "Pneumococcal conjugate PCV 13"),
        new(Cvx, "121", "zoster"),
        new(Cvx, "43", "Hep B, adult"),
        new(Cvx, "208", "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose"),
    ];

    public static readonly (Code Code, string Category)[] Allergies =
    [
        (new(Snomed, "91935009", "Allergy to peanuts"), "food"),
        (new(Snomed, "300913006", "Shellfish allergy"), "food"),
        (new(Snomed, "418689008", "Allergy to grass pollen"), "environment"),
        (new(Snomed, "232347008", "Dander (animal) allergy"), "environment"),
        (new(Snomed, "419474003", "Allergy to mould"), "environment"),
        (new(Snomed, "294505008", "Allergy to amoxicillin"), "medication"),
        (new(Snomed, "91936005", "Allergy to penicillin"), "medication"),
    ];

    public static readonly Code[] Reactions =
    [
        new(Snomed, "247472004", "Wheal (finding)"),
        new(Snomed, "271807003", "Eruption of skin (disorder)"),
        new(Snomed, "49727002", "Cough (finding)"),
        new(Snomed, "39579001", "Anaphylaxis (disorder)"),
    ];

    public static readonly Code[] EncounterTypes =
    [
        new(Snomed, "185349003", "Encounter for check up (procedure)"),
        new(Snomed, "185345009", "Encounter for symptom (procedure)"),
        new(Snomed, "390906007", "Follow-up encounter (procedure)"),
        new(Snomed, "50849002", "Emergency room admission (procedure)"),
    ];

    public static readonly Code[] CarePlans =
    [
        new(Snomed, "698360004", "Diabetes self management plan"),
        new(Snomed, "736285004", "Hyperlipidemia clinical management plan"),
        new(Snomed, "384758001", "Self-care interventions (procedure)"),
        new(Snomed, "91251008", "Physical therapy procedure"),
    ];

    public static readonly string[] Goals =
    [
        "Hemoglobin A1c total in Blood < 7.0",
        "Systolic blood pressure below 140 mmHg",
        "Maintain a healthy body weight",
        "Walk 30 minutes five days a week",
        "Quit smoking",
    ];

    public static readonly Code[] Devices =
    [
        new(Snomed, "337414009", "Blood glucose meters (physical object)"),
        new(Snomed, "702172008", "Home continuous positive airway pressure unit (physical object)"),
        new(Snomed, "714628002", "Prosthetic implant (physical object)"),
    ];

    public static readonly Code[] NoteTypes =
    [
        new(Loinc, "11506-3", "Progress note"),
        new(Loinc, "34117-2", "History and physical note"),
        new(Loinc, "18842-5", "Discharge summary"),
    ];

    public static readonly string[] FemaleNames = ["Mary", "Patricia", "Linda", "Barbara", "Maria", "Susan", "Aisha", "Mei", "Sofia", "Grace", "Olivia", "Priya", "Hannah", "Rosa", "Keiko"];
    public static readonly string[] MaleNames = ["James", "Robert", "John", "Michael", "David", "Jose", "Wei", "Ahmed", "Daniel", "Samuel", "Luis", "Kenji", "Omar", "Thomas", "Ravi"];
    public static readonly string[] FamilyNames = ["Smith", "Johnson", "Garcia", "Nguyen", "Brown", "Okafor", "Patel", "Kowalski", "Martinez", "Lee", "Anderson", "Haddad", "Schmidt", "Tanaka", "Rossi", "Campbell", "Novak", "Jensen", "Silva", "Mbeki"];
    public static readonly string[] Streets = ["Main St", "Oak Ave", "Maple Dr", "Elm St", "Lakeview Rd", "River Rd", "Park Pl", "Cedar Ln", "Hill St", "Washington Ave"];
}

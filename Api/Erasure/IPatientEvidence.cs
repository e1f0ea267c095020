namespace PatientConnect.Api.Erasure;

/// <summary>
/// A read route's answer that shows by itself that the patient exists (a non-empty page of this tenant's
/// sessions of that patient: "a patient exists from its first session"), so <see cref="PatientExistsFilter"/>
/// need not ask the patient grain. An answer that does not show it (an empty page) still gets the check.
/// </summary>
public interface IPatientEvidence
{
    bool ShowsPatientExists { get; }
}

namespace SandboxEhr.Data;

/// <summary>What the consent page and the test hooks show of a patient.</summary>
public sealed record PatientSummary(string Id, string Name, string BirthDate);

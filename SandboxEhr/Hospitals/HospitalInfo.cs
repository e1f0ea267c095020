namespace SandboxEhr.Hospitals;

/// <summary>A virtual hospital or payer. <see cref="VendorProfile"/> is "epic", "cerner" or "payer".</summary>
public sealed record HospitalInfo(string Id, string Name, string VendorProfile, string City, string State, string Zip);

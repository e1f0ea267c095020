namespace SandboxEhr.Data;

/// <summary>How the sandbox's data is made. Bound from the command line / configuration at start.</summary>
public sealed class SandboxDataOptions
{
    /// <summary><c>--data &lt;dir&gt;</c>: a folder of FHIR transaction or collection Bundles (*.json) loaded into an extra hospital.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Generated patients per built-in hospital (at least 1).</summary>
    public int PatientsPerHospital { get; set; } = 20;

    /// <summary>
    /// Whether each built-in hospital gets its one big patient (thousands of resources). Tests that
    /// do not page through it may turn it off to start faster.
    /// </summary>
    public bool IncludeLargePatient { get; set; } = true;

    /// <summary>The extra hospital that holds the loaded Bundles.</summary>
    public HospitalInfoTemplate LoadedHospital { get; set; } = new();
}

/// <summary>Identity of the extra hospital filled from <see cref="SandboxDataOptions.DataDirectory"/>.</summary>
public sealed class HospitalInfoTemplate
{
    public string Id { get; set; } = "synthea";
    public string Name { get; set; } = "Synthea Community Hospital";
    public string VendorProfile { get; set; } = "epic";
    public string City { get; set; } = "Boston";
    public string State { get; set; } = "MA";
    public string Zip { get; set; } = "02118";
}

using SandboxEhr.Fhir;
using SandboxEhr.Hospitals;

namespace SandboxEhr.Data;

/// <summary>Builds each hospital's store at start: generated, or loaded from Bundles for the extra hospital.</summary>
public static class HospitalData
{
    /// <summary>
    /// The store of a hospital. The hospital named by <see cref="SandboxDataOptions.LoadedHospital"/>
    /// is filled from <see cref="SandboxDataOptions.DataDirectory"/>; every other one is generated
    /// from a seed derived from its id, identically at every start.
    /// </summary>
    public static PatientStore Create(HospitalInfo info, SandboxDataOptions options)
    {
        var profile = VendorProfile.For(info.VendorProfile);
        if (options.DataDirectory is not null && info.Id == options.LoadedHospital.Id)
            return PatientStore.Build(BundleLoader.LoadDirectory(options.DataDirectory), profile);
        return PatientStore.Build(new DataGenerator(info, profile, options).Generate(), profile);
    }

    /// <summary>The extra hospital to register when <c>--data</c> was given, else null.</summary>
    public static HospitalInfo? LoadedHospitalInfo(SandboxDataOptions options)
    {
        if (options.DataDirectory is null)
            return null;
        var t = options.LoadedHospital;
        return new HospitalInfo(t.Id, t.Name, t.VendorProfile, t.City, t.State, t.Zip);
    }
}

using SandboxEhr.Data;

namespace SandboxEhr.Hospitals;

/// <summary>The fixed hospitals of the sandbox (ids and profiles in docs/CONVENTIONS.md), built once at start.</summary>
public static class HospitalCatalog
{
    public static readonly IReadOnlyList<HospitalInfo> Fixed =
    [
        new("riverside", "Riverside General Hospital", "epic", "Madison", "WI", "53703"),
        new("lakeside", "Lakeside Medical Center", "cerner", "Kansas City", "MO", "64108"),
        new("summit", "Summit Health Plan", "payer", "Hartford", "CT", "06103"),
        new("northgate", "Northgate Community Hospital", "community", "Duluth", "MN", "55802"),
    ];

    /// <summary>Cerner-like servers hand out 570-second access tokens; the others an hour.</summary>
    public static HospitalSettings DefaultSettings(HospitalInfo info) =>
        info.VendorProfile == "cerner" ? new HospitalSettings { AccessTokenLifetimeSeconds = 570 } : new HospitalSettings();

    /// <summary>
    /// <c>Sandbox:Data:*</c> binds <see cref="SandboxDataOptions"/>; the command line's <c>--data &lt;dir&gt;</c>
    /// (configuration key "data") sets the folder of Bundles loaded into the extra hospital.
    /// </summary>
    public static SandboxDataOptions DataOptions(IConfiguration configuration)
    {
        var options = new SandboxDataOptions();
        configuration.GetSection("Sandbox:Data").Bind(options);
        if (configuration["data"] is { Length: > 0 } folder)
            options.DataDirectory = folder;
        if (options.DataDirectory is not null && !Directory.Exists(options.DataDirectory))
            throw new DirectoryNotFoundException($"--data folder not found: {options.DataDirectory}");
        return options;
    }

    /// <summary>Generates every hospital's data (seeded, so a restart yields the same patients), in parallel.</summary>
    public static HospitalRegistry Build(SandboxDataOptions options)
    {
        var infos = Fixed.ToList();
        if (HospitalData.LoadedHospitalInfo(options) is { } loaded)
            infos.Add(loaded);

        var hospitals = infos
            .AsParallel().AsOrdered()
            .Select(info => new Hospital(info, HospitalData.Create(info, options), DefaultSettings(info)))
            .ToList();
        return new HospitalRegistry(hospitals);
    }
}

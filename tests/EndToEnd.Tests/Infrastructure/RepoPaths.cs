namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>Where the repository and the built programs are, seen from the test binary.</summary>
public static class RepoPaths
{
    // The programs are built by this project's ProjectReferences in the same configuration.
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    public static string Root { get; } = FindRoot();

    public static string SandboxDll => Dll("SandboxEhr", "SandboxEhr");
    public static string SiloDll => Dll("Silo", "PatientConnect.Silo");
    public static string ApiDll => Dll("Api", "PatientConnect.Api");

    private static string Dll(string project, string assembly)
    {
        var path = Path.Combine(Root, project, "bin", Configuration, "net10.0", assembly + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} is missing: build Orleans.sln -c {Configuration} first.", path);
        }
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orleans.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No Orleans.sln above {AppContext.BaseDirectory}.");
    }
}

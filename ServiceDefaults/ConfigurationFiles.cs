using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;

namespace PatientConnect.ServiceDefaults;

/// <summary>Settings files named by a setting (the shared settings file, the silo's sources file).</summary>
public static class ConfigurationFiles
{
    /// <summary>
    /// Adds the JSON file at <paramref name="fullPath"/> just below the unprefixed environment variables
    /// (which come after appsettings*.json), so the process's environment and command line still override it.
    /// </summary>
    public static void AddBelowEnvironment(IConfigurationManager configuration, string fullPath)
    {
        var file = new JsonConfigurationSource { Path = fullPath, Optional = false, ReloadOnChange = false };
        file.ResolveFileProvider();
        var sources = configuration.Sources;
        var environment = sources.Select((s, i) => (Source: s, Index: i))
            .LastOrDefault(x => x.Source is EnvironmentVariablesConfigurationSource { Prefix: null or "" });
        sources.Insert(environment.Source is null ? sources.Count : environment.Index, file);
    }
}

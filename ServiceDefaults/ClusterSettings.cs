using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace PatientConnect.ServiceDefaults;

/// <summary>The settings cannot be used; the message names the setting and says what is wrong.</summary>
public sealed class ClusterSettingsException(string message) : Exception(message);

/// <summary>
/// What the Api host and every silo must agree on to be one cluster: the database, the cluster id and
/// the service id. One reader with one set of defaults and checks for both kinds of process, and one
/// optional file both can load (<see cref="FileKey"/>), so a deployment writes them once.
/// </summary>
public sealed record ClusterSettings(string Postgres, string ClusterId, string ServiceId)
{
    /// <summary>A JSON file of shared settings (same shape as appsettings.json); environment variables and
    /// the command line still win over it.</summary>
    public const string FileKey = "PatientConnect:SharedSettingsFile";

    public const string PostgresKey = "ConnectionStrings:Postgres";
    public const string ClusterIdKey = "Orleans:ClusterId";
    public const string ServiceIdKey = "Orleans:ServiceId";
    public const string DefaultId = "patientconnect";

    /// <summary>Reads and checks the shared settings; throws <see cref="ClusterSettingsException"/> naming the first bad one.</summary>
    public static ClusterSettings Read(IConfiguration configuration)
    {
        var postgres = configuration[PostgresKey];
        if (string.IsNullOrWhiteSpace(postgres))
        {
            throw new ClusterSettingsException(
                $"{PostgresKey} is not set (environment variable ConnectionStrings__Postgres). Give the Npgsql connection string " +
                "of the cluster database, e.g. Host=127.0.0.1;Port=55432;Username=patientconnect;Password=…;Database=patientconnect");
        }
        NpgsqlConnectionStringBuilder csb;
        try
        {
            csb = new NpgsqlConnectionStringBuilder(postgres);
        }
        catch (ArgumentException e)
        {
            throw new ClusterSettingsException($"{PostgresKey} is not a valid Npgsql connection string: {e.Message}");
        }
        return new ClusterSettings(WithAutomaticPreparation(postgres, csb), Id(configuration, ClusterIdKey), Id(configuration, ServiceIdKey));
    }

    /// <summary>Statements a process keeps prepared per connection when the connection string does not say.</summary>
    public const int DefaultMaxAutoPrepare = 64;

    /// <summary>How often a statement runs before it is prepared, when the connection string does not say.</summary>
    public const int DefaultAutoPrepareMinUsages = 2;

    /// <summary>
    /// Npgsql's automatic preparation on, unless the connection string sets it (0 turns it off). The Orleans
    /// storage, reminder and membership queries are plain parameterized text, so without it Postgres parses
    /// and plans each one on every call; prepared after two uses, the refresh benchmark registered
    /// connections 24-31 % faster (README "Performance"), Postgres having been two thirds of its CPU.
    /// </summary>
    private static string WithAutomaticPreparation(string postgres, NpgsqlConnectionStringBuilder csb)
    {
        // Npgsql's builder answers ContainsKey for every keyword it knows; the raw pairs say what was written.
        var written = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = postgres }.Keys
            .Cast<string>().Select(k => k.Replace(" ", "", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (written.Contains("MaxAutoPrepare")) return postgres;
        csb.MaxAutoPrepare = DefaultMaxAutoPrepare;
        if (!written.Contains("AutoPrepareMinUsages")) csb.AutoPrepareMinUsages = DefaultAutoPrepareMinUsages;
        return csb.ConnectionString;
    }

    // Orleans keeps these in membership and storage rows; a blank would silently make a cluster of its own.
    private static string Id(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        if (value is null) return DefaultId;
        if (value.Length is 0 or > 150 || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new ClusterSettingsException(
                $"{key} is '{value}': it must be 1 to 150 characters without spaces, the same on the Api and every silo (default '{DefaultId}').");
        }
        return value;
    }

    /// <summary>
    /// Adds the shared settings file named by <see cref="FileKey"/> (when set) below the environment
    /// variables and the command line, and reads the cluster settings from the result.
    /// </summary>
    public static ClusterSettings Load(IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        if (configuration[FileKey] is { Length: > 0 } path)
        {
            var full = Path.GetFullPath(path);
            if (!File.Exists(full))
            {
                throw new ClusterSettingsException($"{FileKey} points at {full}, which does not exist.");
            }
            ConfigurationFiles.AddBelowEnvironment(configuration, full);
        }
        var settings = Read(configuration);
        // Everything else in the process (grain stores, health check, migrations) reads the connection string
        // from configuration: it gets the same effective one (automatic preparation included).
        configuration[PostgresKey] = settings.Postgres;
        return settings;
    }
}

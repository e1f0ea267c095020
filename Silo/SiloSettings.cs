using System.Net;
using System.Net.Sockets;
using Npgsql;
using PatientConnect.ServiceDefaults;

namespace PatientConnect.Silo;

public sealed class SiloConfigurationException(string message) : Exception(message);

/// <summary>The host's own configuration, read and checked once before anything starts.</summary>
public sealed record SiloSettings(
    string ConnectionString,
    string ClusterId,
    string ServiceId,
    IPAddress AdvertisedIp,
    int SiloPort,
    int GatewayPort,
    bool ListenOnAnyHostAddress,
    TimeSpan DatabaseWait)
{
    public const string MigrateOnlySwitch = "--migrate-only";

    /// <summary>Where the connection string points, without its password, for messages.</summary>
    public string DatabaseDescription
    {
        get
        {
            var csb = new NpgsqlConnectionStringBuilder(ConnectionString);
            return $"{csb.Host}:{csb.Port}/{csb.Database} as {csb.Username}";
        }
    }

    /// <summary>
    /// <c>PatientConnect:SourcesFile</c> names a JSON file with the directory
    /// (<c>{"Directory": {"Sources": [...]}}</c>). It is added after the usual sources, so the
    /// environment and the command line are re-added behind it to keep the last word.
    /// </summary>
    public static void AddSourcesFile(IConfigurationManager configuration)
    {
        var path = configuration["PatientConnect:SourcesFile"];
        if (string.IsNullOrWhiteSpace(path))
        {
            return;
        }

        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new SiloConfigurationException($"PatientConnect:SourcesFile points at {full}, which does not exist.");
        }

        ConfigurationFiles.AddBelowEnvironment(configuration, full);
    }

    public static SiloSettings Read(IConfiguration configuration, bool requireSiloKeys)
    {
        ClusterSettings cluster;
        try
        {
            cluster = ClusterSettings.Read(configuration);
        }
        catch (ClusterSettingsException e)
        {
            throw new SiloConfigurationException(e.Message);
        }

        // With a key ring (TokenEncryptionKeys:N:Id/Key) the single key is optional; the ring itself is
        // checked when the TokenProtector is built at start.
        if (requireSiloKeys && (!configuration.GetSection("PatientConnect:TokenEncryptionKeys").GetChildren().Any()
                                || !string.IsNullOrWhiteSpace(configuration["PatientConnect:TokenEncryptionKey"])))
        {
            CheckTokenKey(configuration["PatientConnect:TokenEncryptionKey"]);
        }

        return new SiloSettings(
            cluster.Postgres,
            ClusterId: cluster.ClusterId,
            ServiceId: cluster.ServiceId,
            AdvertisedIp: ResolveAdvertisedIp(configuration["Orleans:AdvertisedIP"]),
            SiloPort: Port(configuration, "Orleans:SiloPort", 11111),
            GatewayPort: Port(configuration, "Orleans:GatewayPort", 30000),
            ListenOnAnyHostAddress: Bool(configuration, "Orleans:ListenOnAnyHostAddress", false),
            DatabaseWait: TimeSpan.FromSeconds(Int(configuration, "PatientConnect:DatabaseWaitSeconds", 0, 0, 3600)));
    }

    private static void CheckTokenKey(string? value)
    {
        const string what = "PatientConnect:TokenEncryptionKey (environment variable PatientConnect__TokenEncryptionKey)";
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new SiloConfigurationException(
                $"{what} is not set. It must be base64 of 32 random bytes, e.g. the output of `openssl rand -base64 32`.");
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(value.Trim());
        }
        catch (FormatException)
        {
            throw new SiloConfigurationException($"{what} is not valid base64.");
        }

        if (key.Length != 32)
        {
            throw new SiloConfigurationException($"{what} decodes to {key.Length} bytes; AES-256 needs exactly 32.");
        }
    }

    /// <summary>
    /// An IP literal, a host name to resolve, or <c>auto</c> for this machine's first non-loopback
    /// IPv4 address (containers scaled from one definition each need their own).
    /// </summary>
    private static IPAddress ResolveAdvertisedIp(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return IPAddress.Loopback;
        }

        if (IPAddress.TryParse(value, out var ip))
        {
            return ip;
        }

        var host = string.Equals(value, "auto", StringComparison.OrdinalIgnoreCase) ? Dns.GetHostName() : value;
        try
        {
            var addresses = Dns.GetHostAddresses(host);
            return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
                ?? addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? throw new SiloConfigurationException($"Orleans:AdvertisedIP '{value}' resolves to no IPv4 address.");
        }
        catch (SocketException e)
        {
            throw new SiloConfigurationException($"Orleans:AdvertisedIP '{value}' cannot be resolved: {e.Message}");
        }
    }

    private static int Port(IConfiguration configuration, string key, int fallback) => Int(configuration, key, fallback, 1, 65535);

    private static int Int(IConfiguration configuration, string key, int fallback, int min, int max)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return fallback;
        }

        if (!int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var number)
            || number < min || number > max)
        {
            throw new SiloConfigurationException($"{key} must be a whole number from {min} to {max}, not '{value}'.");
        }

        return number;
    }

    private static bool Bool(IConfiguration configuration, string key, bool fallback)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return fallback;
        }

        return bool.TryParse(value, out var flag)
            ? flag
            : throw new SiloConfigurationException($"{key} must be true or false, not '{value}'.");
    }
}

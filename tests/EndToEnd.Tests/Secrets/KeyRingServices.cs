using System.Security.Cryptography;
using System.Text;
using Npgsql;
using PatientConnect.EndToEnd.Tests.Tokens;

namespace PatientConnect.EndToEnd.Tests.Secrets;

/// <summary>
/// A service whose silo runs with a ring of token keys the test changes between silo restarts
/// (<see cref="Keys"/>, oldest first), and with a cluster client to read connection tokens.
/// </summary>
public sealed class KeyRingServices : TokenServices
{
    private readonly Dictionary<string, string> _material = new(StringComparer.Ordinal);

    public KeyRingServices() => Keys = ["k1"];

    /// <summary>Key ids the silo gets at its next start, oldest first (the last encrypts).</summary>
    public string[] Keys { get; set; }

    /// <summary>Whether the silo re-encrypts everything under the newest key once started.</summary>
    public bool ReencryptOnStart { get; set; }

    protected override void AddSiloEnvironment(Dictionary<string, string> env)
    {
        base.AddSiloEnvironment(env);
        env.Remove("PatientConnect__TokenEncryptionKey");
        for (var i = 0; i < Keys.Length; i++)
        {
            if (!_material.TryGetValue(Keys[i], out var key)) _material[Keys[i]] = key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            env[$"PatientConnect__TokenEncryptionKeys__{i}__Id"] = Keys[i];
            env[$"PatientConnect__TokenEncryptionKeys__{i}__Key"] = key;
        }
        env["PatientConnect__TokenKeyRotation__ReencryptOnStart"] = ReencryptOnStart ? "true" : "false";
    }

    /// <summary>Every row of every table as text (bytea as hex), for a scan for secrets.</summary>
    public async Task<List<(string Table, string Row)>> AllRowsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        }
        var rows = new List<(string, string)>();
        foreach (var table in tables)
        {
            await using var select = new NpgsqlCommand($"SELECT t::text FROM \"{table}\" t", connection);
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add((table, reader.GetString(0)));
        }
        return rows;
    }

    /// <summary>The stored grain state (JSON) of one grain, or null.</summary>
    public async Task<string?> GrainStateAsync(string grainType, string key)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var select = new NpgsqlCommand(
            "SELECT payloadbinary FROM orleansstorage WHERE graintypestring = @type AND grainidextensionstring = @key AND payloadbinary IS NOT NULL", connection);
        select.Parameters.AddWithValue("type", grainType);
        select.Parameters.AddWithValue("key", key);
        return await select.ExecuteScalarAsync() is byte[] payload ? Encoding.UTF8.GetString(payload) : null;
    }

    /// <summary>Key ids of the protected values named <paramref name="property"/> in a grain's stored state.</summary>
    public static List<string> KeyIds(string stateJson, string property) =>
        System.Text.Json.Nodes.JsonNode.Parse(stateJson)!.AsObject()
            .Where(p => p.Key.Equals(property, StringComparison.OrdinalIgnoreCase) && p.Value is not null)
            .Select(p => KeyIdOf(p.Value!.GetValue<string>())).ToList();

    /// <summary>The key id in the service's protected-value layout (2 | id length | id | …); "0" for the layout without ids.</summary>
    public static string KeyIdOf(string protectedValue)
    {
        var bytes = Convert.FromBase64String(protectedValue);
        return bytes[0] == 2 ? Encoding.UTF8.GetString(bytes, 2, bytes[1]) : "0";
    }

    public async Task<string> WebhookSecretKeyIdAsync(string endpointId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var select = new NpgsqlCommand("SELECT secret_protected FROM pc_webhook_endpoints WHERE id = @id", connection);
        select.Parameters.AddWithValue("id", endpointId);
        return KeyIdOf((string)(await select.ExecuteScalarAsync())!);
    }
}

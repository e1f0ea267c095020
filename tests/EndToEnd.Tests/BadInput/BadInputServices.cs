using Npgsql;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.BadInput;

/// <summary>
/// A service of its own for the bad-input run: its database sees no other test's writes, so the
/// row counts before and after are the bad requests' doing alone. Outbound requests to loopback are
/// off, as in production configuration, so a webhook at 127.0.0.1 is refused like one at 10.0.0.1.
/// </summary>
public sealed class BadInputServices : ServiceProcesses
{
    protected override void AddSiloEnvironment(Dictionary<string, string> env) =>
        env["PatientConnect__Outbound__AllowLoopback"] = "false";

    /// <summary>Rows per table of this service's database (every table in the public schema).</summary>
    public async Task<SortedDictionary<string, long>> RowCountsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        }
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\"", connection);
            counts[table] = Convert.ToInt64(await count.ExecuteScalarAsync());
        }
        return counts;
    }

    /// <summary>Grain state rows (type and key), to name what a refused request stored.</summary>
    public async Task<HashSet<string>> GrainStateRowsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT graintypestring || ' ' || coalesce(grainidextensionstring, '') || ' ' || (payloadbinary IS NULL)::text FROM orleansstorage", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }
}

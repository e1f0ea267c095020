using System.Diagnostics;
using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Migrations;

/// <summary>
/// The migrated schema does what the Orleans providers rely on: the stored query texts run with
/// the providers' parameters, and real silos form, keep and leave a cluster on it.
/// </summary>
public sealed class OrleansSchemaTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Grain_storage_queries_write_read_and_reject_a_stale_version()
    {
        await using var database = await MigratedAsync();
        await using var connection = database.OpenConnection();
        var write = await QueryTextAsync(connection, "WriteToStorageKey");
        var read = await QueryTextAsync(connection, "ReadFromStorageKey");
        var clear = await QueryTextAsync(connection, "ClearStorageKey");
        var delete = await QueryTextAsync(connection, "DeleteStorageKey");

        Assert.Equal(1, await StorageAsync(connection, write, version: null, payload: "one"));
        // A second first-write (another activation that never read) must lose, not duplicate.
        Assert.Null(await StorageAsync(connection, write, version: null, payload: "dup"));
        Assert.Equal(2, await StorageAsync(connection, write, version: 1, payload: "two"));
        // Stale: the caller read version 1, the row is at 2 → the version comes back unchanged.
        Assert.Equal(1, await StorageAsync(connection, write, version: 1, payload: "stale"));

        await using (var command = Storage(connection, read, version: null, payload: null))
        await using (var reader = await command.ExecuteReaderAsync(Cancel))
        {
            Assert.True(await reader.ReadAsync(Cancel));
            // The provider reads by position: payload, timestamp, version.
            Assert.Equal(3, reader.FieldCount);
            Assert.Equal("two", System.Text.Encoding.UTF8.GetString((byte[])reader.GetValue(0)));
            Assert.Equal(2, reader.GetInt32(2));
            Assert.False(await reader.ReadAsync(Cancel));
        }

        Assert.Equal(3, await StorageAsync(connection, clear, version: 2, payload: null));
        // Deleting at a stale version deletes nothing; at the current one it removes the row.
        Assert.Null(await StorageAsync(connection, delete, version: 2, payload: null));
        Assert.Equal(4, await StorageAsync(connection, delete, version: 3, payload: null));
        Assert.Equal(0L, await MigrationTests.ScalarAsync<long>(connection, "SELECT count(*) FROM orleansstorage"));
    }

    [Fact]
    public async Task Reminder_queries_upsert_read_by_range_and_delete_by_version()
    {
        await using var database = await MigratedAsync();
        await using var connection = database.OpenConnection();

        var upsert = await QueryTextAsync(connection, "UpsertReminderRowKey");
        Assert.Equal(0, await ReminderScalarAsync(connection, upsert, 100));
        Assert.Equal(1, await ReminderScalarAsync(connection, upsert, 100));

        await using (var range = new NpgsqlCommand(await QueryTextAsync(connection, "ReadRangeRows1Key"), connection))
        {
            range.Parameters.AddWithValue("ServiceId", "svc");
            range.Parameters.AddWithValue("BeginHash", 50);
            range.Parameters.AddWithValue("EndHash", 150);
            await using var reader = await range.ExecuteReaderAsync(Cancel);
            Assert.True(await reader.ReadAsync(Cancel));
            Assert.Equal("grain-1", reader.GetString(reader.GetOrdinal("grainid")));
            Assert.Equal(1, reader.GetInt32(reader.GetOrdinal("version")));
        }

        var delete = await QueryTextAsync(connection, "DeleteReminderRowKey");
        Assert.Equal(0, await DeleteReminderAsync(connection, delete, version: 0));
        Assert.Equal(1, await DeleteReminderAsync(connection, delete, version: 1));
    }

    [Fact]
    public async Task Two_silos_join_on_the_migrated_schema_and_the_survivor_declares_a_killed_one_dead()
    {
        await using var database = await MigratedAsync();
        var clusterId = "mig-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var tokenKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var apiKey = "pc_mig_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        ManagedProcess Start(string name) => ManagedProcess.Start(name, RepoPaths.SiloDll, [], new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = database.ConnectionString,
            ["PatientConnect__TokenEncryptionKey"] = tokenKey,
            ["Orleans__ClusterId"] = clusterId,
            ["Orleans__ServiceId"] = clusterId,
            ["Orleans__SiloPort"] = FreePorts.Next().ToString(),
            ["Orleans__GatewayPort"] = FreePorts.Next().ToString(),
            // Fast failure detection so the crash is noticed within the test's patience.
            ["Orleans__Membership__ProbeTimeout"] = "00:00:01",
            ["Orleans__Membership__NumMissedProbesLimit"] = "2",
            ["Orleans__Membership__IAmAliveTablePublishTimeout"] = "00:00:05",
            // A seeded key makes each silo write grain state through Orleans' own ADO.NET storage.
            ["PatientConnect__Tenants__0__Id"] = "tenant-m",
            ["PatientConnect__Tenants__0__ApiKeys__0"] = apiKey,
        });

        await using var first = Start("silo-1");
        await using var second = Start("silo-2");
        await using var connection = database.OpenConnection();
        await WaitUntilAsync(async () => await StatusesAsync(connection, clusterId) is [3, 3], first, second,
            "both silos Active (3) in the membership table");
        // Active in the table comes before the host has finished starting; the seeder runs last.
        await WaitUntilAsync(() => Task.FromResult(
                first.Output().Contains("Seeded 1 API key(s)") && second.Output().Contains("Seeded 1 API key(s)")),
            first, second, "both silos started and seeded");
        await WaitUntilAsync(async () => await MigrationTests.ScalarAsync<long>(connection,
                $"SELECT count(*) FROM orleansstorage WHERE serviceid = '{clusterId}' AND payloadbinary IS NOT NULL AND version >= 1") == 1,
            first, second, "the seeded API key's grain state written by the storage provider");

        second.Kill();
        await WaitUntilAsync(async () => (await StatusesAsync(connection, clusterId)).Order().SequenceEqual([3, 6]), first, second,
            "the killed silo declared Dead (6) by the survivor");
        Assert.False(first.HasExited, first.Output());

        await first.StopAsync(TimeSpan.FromSeconds(30));
        Assert.True(first.ExitCode == 0, $"exit {first.ExitCode}\n{first.Output()}");
        // A graceful stop marks its own row Dead instead of waiting to be voted out.
        Assert.Equal(new[] { 6, 6 }, await StatusesAsync(connection, clusterId));
    }

    private static async Task<TestDatabase> MigratedAsync()
    {
        var database = await TestDatabase.CreateAsync();
        var run = await SiloCommand.MigrateOnlyAsync(database.ConnectionString, Cancel);
        if (run.ExitCode != 0)
        {
            await database.DisposeAsync();
            Assert.Fail(run.All);
        }

        return database;
    }

    private static async Task<List<int>> StatusesAsync(NpgsqlConnection connection, string clusterId)
    {
        await using var command = new NpgsqlCommand(
            "SELECT status FROM orleansmembershiptable WHERE deploymentid = @id ORDER BY port", connection);
        command.Parameters.AddWithValue("id", clusterId);
        await using var reader = await command.ExecuteReaderAsync(Cancel);
        var statuses = new List<int>();
        while (await reader.ReadAsync(Cancel))
        {
            statuses.Add(reader.GetInt32(0));
        }

        return statuses;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, ManagedProcess a, ManagedProcess b, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(250, Cancel);
        }

        Assert.Fail($"Timed out waiting for {what}.\n{a.Output()}\n{b.Output()}");
    }

    private static async Task<string> QueryTextAsync(NpgsqlConnection connection, string key)
    {
        await using var command = new NpgsqlCommand("SELECT querytext FROM orleansquery WHERE querykey = @key", connection);
        command.Parameters.AddWithValue("key", key);
        return (string)(await command.ExecuteScalarAsync(Cancel))!;
    }

    // The parameters the ADO.NET grain storage binds, for one fixed string-keyed grain.
    private static NpgsqlCommand Storage(NpgsqlConnection connection, string sql, int? version, string? payload)
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("GrainIdHash", 42);
        command.Parameters.AddWithValue("GrainIdN0", 7L);
        command.Parameters.AddWithValue("GrainIdN1", 8L);
        command.Parameters.AddWithValue("GrainTypeHash", 99);
        command.Parameters.AddWithValue("GrainTypeString", "pc.session");
        command.Parameters.AddWithValue("GrainIdExtensionString", "ps_abc");
        command.Parameters.AddWithValue("ServiceId", "svc");
        command.Parameters.Add(new NpgsqlParameter("GrainStateVersion", NpgsqlDbType.Integer) { Value = (object?)version ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("PayloadBinary", NpgsqlDbType.Bytea)
        {
            Value = payload is null ? DBNull.Value : System.Text.Encoding.UTF8.GetBytes(payload),
        });
        return command;
    }

    private static async Task<int?> StorageAsync(NpgsqlConnection connection, string sql, int? version, string? payload)
    {
        await using var command = Storage(connection, sql, version, payload);
        var value = await command.ExecuteScalarAsync(Cancel);
        return value is DBNull or null ? null : Convert.ToInt32(value);
    }

    private static async Task<int> ReminderScalarAsync(NpgsqlConnection connection, string sql, int grainHash)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("ServiceId", "svc");
        command.Parameters.AddWithValue("GrainId", "grain-1");
        command.Parameters.AddWithValue("ReminderName", "expire");
        command.Parameters.AddWithValue("StartTime", DateTime.UtcNow);
        command.Parameters.AddWithValue("Period", 60_000L);
        command.Parameters.AddWithValue("GrainHash", grainHash);
        return Convert.ToInt32(await command.ExecuteScalarAsync(Cancel));
    }

    private static async Task<int> DeleteReminderAsync(NpgsqlConnection connection, string sql, int version)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("ServiceId", "svc");
        command.Parameters.AddWithValue("GrainId", "grain-1");
        command.Parameters.AddWithValue("ReminderName", "expire");
        command.Parameters.AddWithValue("Version", version);
        return Convert.ToInt32(await command.ExecuteScalarAsync(Cancel));
    }
}

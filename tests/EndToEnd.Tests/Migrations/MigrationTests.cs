using Npgsql;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Migrations;

/// <summary>`Silo --migrate-only` on real Postgres: empty database, migrated database, concurrent runs.</summary>
public sealed class MigrationTests
{
    private static readonly string[] OrleansTables =
    [
        "orleansquery", "orleansmembershipversiontable", "orleansmembershiptable", "orleansstorage", "orleansreminderstable",
    ];

    private static readonly string[] ServiceTables = ["pc_schema_migrations", "pc_records", "pc_webhook_outbox"];

    // Every key the 10.4.2 clustering, storage and reminder providers load at start.
    private static readonly string[] OrleansQueryKeys =
    [
        "UpdateIAmAlivetimeKey", "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey",
        "MembershipReadRowKey", "MembershipReadAllKey", "DeleteMembershipTableEntriesKey", "GatewaysQueryKey",
        "CleanupDefunctSiloEntriesKey",
        "WriteToStorageKey", "ReadFromStorageKey", "ClearStorageKey", "DeleteStorageKey",
        "UpsertReminderRowKey", "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
        "DeleteReminderRowKey", "DeleteReminderRowsKey",
    ];

    private static int MigrationFileCount =>
        Directory.GetFiles(Path.Combine(RepoPaths.Root, "Silo", "Migrations"), "*.sql").Length;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Migrate_only_on_an_empty_database_creates_the_orleans_and_service_schema()
    {
        await using var database = await TestDatabase.CreateAsync();

        var run = await SiloCommand.MigrateOnlyAsync(database.ConnectionString, Cancel);

        Assert.True(run.ExitCode == 0, run.All);
        Assert.Equal((MigrationFileCount, 0), run.Summary());

        await using var connection = database.OpenConnection();
        var tables = await ListAsync(connection,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
        Assert.All(OrleansTables.Concat(ServiceTables), t => Assert.Contains(t, tables));

        var keys = await ListAsync(connection, "SELECT querykey FROM orleansquery");
        Assert.Equal(OrleansQueryKeys.Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
        // The cron columns of a later reminder provider must not be there: 10.4.2 does not write them.
        var reminderColumns = await ListAsync(connection,
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'orleansreminderstable'");
        Assert.DoesNotContain("cronexpression", reminderColumns);

        var functions = await ListAsync(connection,
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'");
        Assert.All(
            ["update_i_am_alive_time", "insert_membership_version", "insert_membership", "update_membership",
             "writetostorage", "upsert_reminder_row", "delete_reminder_row"],
            f => Assert.Contains(f, functions));

        var recordColumns = await ListAsync(connection,
            "SELECT column_name || ':' || data_type FROM information_schema.columns WHERE table_name = 'pc_records'");
        Assert.All(
            ["tenant_id:text", "connection_id:text", "resource_type:text", "resource_id:text", "patient_id:text",
             "last_updated:timestamp with time zone", "sync_run:text", "resource:jsonb", "stored_at:timestamp with time zone"],
            c => Assert.Contains(c, recordColumns));
        var recordKey = await ScalarAsync<string>(connection, """
            SELECT string_agg(a.attname, ',' ORDER BY k.ord)
            FROM pg_index i
            JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = 'pc_records'::regclass AND i.indisprimary
            """);
        Assert.Equal("tenant_id,connection_id,resource_type,resource_id", recordKey);
        var recordIndexes = await ListAsync(connection, "SELECT indexdef FROM pg_indexes WHERE tablename = 'pc_records'");
        Assert.Contains(recordIndexes, d => d.Contains("(tenant_id, patient_id", StringComparison.Ordinal));

        var outboxColumns = await ListAsync(connection,
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'pc_webhook_outbox'");
        Assert.All(
            ["id", "tenant_id", "event_id", "event_type", "aggregate_id", "payload", "created_at", "attempts",
             "next_attempt_at", "delivered_at", "last_error"],
            c => Assert.Contains(c, outboxColumns));

        Assert.Equal(MigrationFileCount, await ScalarAsync<long>(connection, "SELECT count(*) FROM pc_schema_migrations"));
    }

    [Fact]
    public async Task Migrate_only_on_a_migrated_database_applies_nothing_twice()
    {
        await using var database = await TestDatabase.CreateAsync();
        var first = await SiloCommand.MigrateOnlyAsync(database.ConnectionString, Cancel);
        Assert.True(first.ExitCode == 0, first.All);
        await using var connection = database.OpenConnection();
        var historyBefore = await ListAsync(connection,
            "SELECT version || ' ' || name || ' ' || applied_at FROM pc_schema_migrations ORDER BY version");
        var queriesBefore = await ScalarAsync<long>(connection, "SELECT count(*) FROM orleansquery");

        var second = await SiloCommand.MigrateOnlyAsync(database.ConnectionString, Cancel);

        Assert.True(second.ExitCode == 0, second.All);
        Assert.Equal((0, MigrationFileCount), second.Summary());
        var historyAfter = await ListAsync(connection,
            "SELECT version || ' ' || name || ' ' || applied_at FROM pc_schema_migrations ORDER BY version");
        Assert.Equal(historyBefore, historyAfter);
        Assert.Equal(MigrationFileCount, historyAfter.Count);
        Assert.Equal(queriesBefore, await ScalarAsync<long>(connection, "SELECT count(*) FROM orleansquery"));
    }

    [Fact]
    public async Task Two_concurrent_migrations_both_succeed_and_apply_each_version_once()
    {
        await using var database = await TestDatabase.CreateAsync();

        var runs = await Task.WhenAll(
            SiloCommand.MigrateOnlyAsync(database.ConnectionString, Cancel),
            SiloCommand.MigrateOnlyAsync(database.ConnectionString, Cancel));

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.All));
        // The advisory lock makes one runner apply everything and the other find it done.
        var summaries = runs.Select(r => r.Summary()).ToList();
        Assert.Equal(MigrationFileCount, summaries.Sum(s => s.Applied));
        Assert.Contains((MigrationFileCount, 0), summaries);
        Assert.Contains((0, MigrationFileCount), summaries);

        await using var connection = database.OpenConnection();
        Assert.Equal(MigrationFileCount, await ScalarAsync<long>(connection, "SELECT count(DISTINCT version) FROM pc_schema_migrations"));
        Assert.Equal(MigrationFileCount, await ScalarAsync<long>(connection, "SELECT count(*) FROM pc_schema_migrations"));
        Assert.Equal(OrleansQueryKeys.Length, await ScalarAsync<long>(connection, "SELECT count(*) FROM orleansquery"));
    }

    [Fact]
    public async Task Migrate_only_against_an_unreachable_database_fails_with_a_clear_message()
    {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        var run = await SiloCommand.MigrateOnlyAsync(
            "Host=127.0.0.1;Port=1;Username=patientconnect;Password=secret-value;Database=nowhere;Timeout=3", Cancel);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("cannot reach PostgreSQL at 127.0.0.1:1/nowhere", run.StandardError);
        Assert.DoesNotContain("secret-value", run.StandardOutput + run.StandardError);
    }

    [Fact]
    public async Task Silo_without_connection_string_or_token_key_refuses_to_start_and_says_which()
    {
        var noDatabase = await SiloCommand.MigrateOnlyAsync(null, Cancel);
        Assert.Equal(1, noDatabase.ExitCode);
        Assert.Contains("ConnectionStrings:Postgres is not set", noDatabase.StandardError);

        var noKey = await SiloCommand.RunAsync([],
            new Dictionary<string, string> { ["ConnectionStrings__Postgres"] = TestDatabase.AdminConnectionString },
            TimeSpan.FromSeconds(60), Cancel);
        Assert.Equal(1, noKey.ExitCode);
        Assert.Contains("PatientConnect:TokenEncryptionKey", noKey.StandardError);
        Assert.Contains("is not set", noKey.StandardError);
    }

    internal static async Task<List<string>> ListAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(Cancel);
        var values = new List<string>();
        while (await reader.ReadAsync(Cancel))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    internal static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Cancel))!;
    }
}

using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace PatientConnect.Silo.Migrations;

/// <summary>One numbered schema script embedded in this assembly (Migrations/NNNN_name.sql).</summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

/// <summary>What one run did: the versions it applied and the ones it found already applied.</summary>
public sealed record MigrationResult(IReadOnlyList<Migration> Applied, int AlreadyApplied);

/// <summary>
/// Applies the embedded SQL migrations in version order, each in its own transaction, recording
/// each one in <c>pc_schema_migrations</c>. A session-level advisory lock serialises concurrent
/// runners (several silos starting at once, or the compose one-shot racing a silo): the second
/// waits, then finds everything applied.
/// </summary>
public sealed partial class MigrationRunner(string connectionString, ILogger<MigrationRunner> logger)
{
    // An arbitrary constant shared by every PatientConnect process: "pc_schm" in ASCII.
    private const long AdvisoryLockKey = 0x70635F7363686D;

    [GeneratedRegex(@"(?:^|\.)(?<version>\d{4})_(?<name>[A-Za-z0-9_]+)\.sql$")]
    private static partial Regex ResourceName();

    public static IReadOnlyList<Migration> Embedded()
    {
        var assembly = typeof(MigrationRunner).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = ResourceName().Match(resource);
            if (!match.Success)
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"Embedded migration {resource} cannot be read.");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            migrations.Add(new Migration(
                int.Parse(match.Groups["version"].Value, System.Globalization.CultureInfo.InvariantCulture),
                match.Groups["name"].Value,
                reader.ReadToEnd()));
        }

        var duplicate = migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException(
                $"Two migrations share version {duplicate.Key}: {string.Join(", ", duplicate.Select(m => m.Name))}.");
        }

        return migrations.OrderBy(m => m.Version).ToList();
    }

    public async Task<MigrationResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var migrations = Embedded();
        if (migrations.Count == 0)
        {
            throw new InvalidOperationException(
                $"No migrations are embedded in {Assembly.GetExecutingAssembly().GetName().Name}.");
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);

        await ExecuteAsync(connection, null, "SELECT pg_advisory_lock(@key)", cancellationToken, ("key", AdvisoryLockKey));
        try
        {
            // Created under the lock: concurrent CREATE TABLE IF NOT EXISTS can still collide in pg_type.
            await ExecuteAsync(connection, null, """
                CREATE TABLE IF NOT EXISTS pc_schema_migrations
                (
                    version    integer     NOT NULL PRIMARY KEY,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, cancellationToken);

            var applied = await ReadAppliedAsync(connection, cancellationToken);
            var done = new List<Migration>();
            foreach (var migration in migrations)
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (checksum != migration.Checksum)
                    {
                        // Applied files are history: a change must be a new numbered file.
                        LogChanged(migration.Version, migration.Name);
                    }

                    continue;
                }

                await ApplyAsync(connection, migration, cancellationToken);
                done.Add(migration);
            }

            var already = migrations.Count - done.Count;
            LogSummary(done.Count, already, migrations[^1].Version);
            return new MigrationResult(done, already);
        }
        finally
        {
            if (connection.FullState == System.Data.ConnectionState.Open)
            {
                await ExecuteAsync(connection, null, "SELECT pg_advisory_unlock(@key)", CancellationToken.None,
                    ("key", AdvisoryLockKey));
            }
        }
    }

    private async Task ApplyAsync(NpgsqlConnection connection, Migration migration, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
            await ExecuteAsync(connection, transaction,
                "INSERT INTO pc_schema_migrations (version, name, checksum) VALUES (@version, @name, @checksum)",
                cancellationToken,
                ("version", migration.Version), ("name", migration.Name), ("checksum", migration.Checksum));
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException e)
        {
            throw new MigrationFailedException(
                $"Migration {migration.Version:D4}_{migration.Name} failed: {e.MessageText}" +
                (e.Position > 0 ? $" (at character {e.Position})" : ""), e);
        }

        LogApplied(migration.Version, migration.Name);
    }

    private static async Task<Dictionary<int, string>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<int, string>();
        await using var command = new NpgsqlCommand("SELECT version, checksum FROM pc_schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied[reader.GetInt32(0)] = reader.GetString(1);
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Version:D4}_{Name}")]
    private partial void LogApplied(int version, string name);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Schema is at version {Latest:D4}: {Applied} migration(s) applied now, {AlreadyApplied} already applied")]
    private partial void LogSummary(int applied, int alreadyApplied, int latest);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Migration {Version:D4}_{Name} was edited after it was applied; the edit is not re-applied. Add a new migration instead.")]
    private partial void LogChanged(int version, string name);
}

public sealed class MigrationFailedException(string message, Exception inner) : Exception(message, inner);

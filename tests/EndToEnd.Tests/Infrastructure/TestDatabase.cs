using System.Security.Cryptography;
using Npgsql;

namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A fresh, empty, randomly named database on the test Postgres, dropped on dispose. The admin
/// connection comes from <c>PATIENTCONNECT_PG</c> (exported by test.sh) or the local default.
/// The database is owned by the connecting role, so the schema can be applied as that role.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string DefaultAdminConnectionString =
        "Host=127.0.0.1;Port=55432;Username=patientconnect;Password=patientconnect;Database=patientconnect";

    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable("PATIENTCONNECT_PG") is { Length: > 0 } fromEnv ? fromEnv : DefaultAdminConnectionString;

    private TestDatabase(string name, string connectionString)
    {
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    /// <summary>Npgsql connection string to this database, with the admin role's credentials.</summary>
    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync()
    {
        // Lowercase letters and digits only: no quoting needed, and Postgres folds nothing.
        var name = "pc_test_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name };
        return new TestDatabase(name, builder.ConnectionString);
    }

    public NpgsqlConnection OpenConnection()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    public ValueTask DisposeAsync() => new(DatabaseDrop.DropAsync(AdminConnectionString, Name, TimeSpan.FromSeconds(30)));
}

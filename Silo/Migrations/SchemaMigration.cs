using System.Net.Sockets;
using Npgsql;

namespace PatientConnect.Silo.Migrations;

/// <summary>Runs the migrations before the silo starts and turns failures into exit codes and clear messages.</summary>
public static class SchemaMigration
{
    public const int DatabaseUnreachable = 2;
    public const int MigrationFailed = 3;

    public static async Task<int> MigrateAsync(IServiceProvider services, SiloSettings settings, ILogger logger)
    {
        var runner = new MigrationRunner(settings.ConnectionString, services.GetRequiredService<ILogger<MigrationRunner>>());
        var deadline = DateTime.UtcNow + settings.DatabaseWait;
        while (true)
        {
            try
            {
                var result = await runner.RunAsync();
                // A plain line as well as the log: scripts and tests read it without parsing log formats.
                Console.WriteLine($"migrations: {result.Applied.Count} applied, {result.AlreadyApplied} already applied");
                return 0;
            }
            catch (MigrationFailedException e)
            {
                logger.LogCritical(e, "Schema migration failed on {Database}", settings.DatabaseDescription);
                Console.Error.WriteLine($"PatientConnect.Silo: {e.Message}");
                return MigrationFailed;
            }
            catch (Exception e) when (IsUnreachable(e))
            {
                if (DateTime.UtcNow < deadline)
                {
                    logger.LogWarning("PostgreSQL at {Database} is not reachable yet ({Reason}); retrying",
                        settings.DatabaseDescription, e.Message);
                    await Task.Delay(TimeSpan.FromSeconds(1));
                    continue;
                }

                Console.Error.WriteLine(
                    $"PatientConnect.Silo: cannot reach PostgreSQL at {settings.DatabaseDescription}: {e.Message}");
                return DatabaseUnreachable;
            }
            catch (PostgresException e)
            {
                // Wrong password, missing database, no permission: the database answered, but no.
                Console.Error.WriteLine(
                    $"PatientConnect.Silo: PostgreSQL at {settings.DatabaseDescription} refused the schema migration: " +
                    $"{e.SqlState} {e.MessageText}");
                return e.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification
                    or PostgresErrorCodes.InvalidCatalogName
                    ? DatabaseUnreachable
                    : MigrationFailed;
            }
        }
    }

    private static bool IsUnreachable(Exception e) => e switch
    {
        // The server is up but still recovering or starting.
        PostgresException p => p.SqlState is PostgresErrorCodes.CannotConnectNow,
        NpgsqlException { InnerException: SocketException or TimeoutException or IOException } => true,
        NpgsqlException n => n.IsTransient,
        SocketException or TimeoutException => true,
        _ => false,
    };
}

using Npgsql;

namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Drops a database a test or benchmark made, waiting out what the server itself holds it with.
/// WITH (FORCE) also ends sessions of killed silos the server has not reaped yet. It cannot end an
/// autovacuum worker that happens to be in the new tables (not our role: 42501), nor drop while one is
/// (55006): such a worker ends within moments, or within minutes after a million rows, so the drop is tried
/// again until <c>patience</c> runs out, then the server's error is thrown. Anything else is thrown at once.
/// Linked into the benchmarks too, which drop their databases the same way.
/// </summary>
public static class DatabaseDrop
{
    public static async Task DropAsync(string adminConnectionString, string database, TimeSpan patience, Action<PostgresException>? onRetry = null)
    {
        // Pooled connections of this process would otherwise keep the database busy.
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(adminConnectionString);
        await admin.OpenAsync();
        var deadline = DateTime.UtcNow + patience;
        var pause = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ObjectInUse
                                              && DateTime.UtcNow + pause < deadline)
            {
                onRetry?.Invoke(e);
                await Task.Delay(pause);
                // Seconds apart once it is clearly a long worker, not a moment's overlap.
                pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 3000));
            }
        }
    }
}

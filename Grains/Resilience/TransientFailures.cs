using System.Data.Common;
using Npgsql;
using PatientConnect.Resilience;

namespace PatientConnect.Grains.Resilience;

/// <summary>
/// One owner for "is this the database being away": every path that turns a provider exception into
/// <see cref="ServiceUnavailableException"/> asks here.
/// </summary>
public static class TransientFailures
{
    /// <summary>True when <paramref name="exception"/> or one of its inner exceptions says Postgres did not answer.</summary>
    public static bool IsDatabaseUnavailable(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case ServiceUnavailableException:
                    return true;
                // A server-side refusal of the statement itself (constraint, syntax) is a bug, not an outage.
                case PostgresException postgres:
                    return postgres.IsTransient || postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || postgres.SqlState is "57P01" or "57P02" or "57P03" or "53300";
                case NpgsqlException:
                case DbException:
                case System.Net.Sockets.SocketException:
                    return true;
                case AggregateException aggregate:
                    return aggregate.InnerExceptions.Any(IsDatabaseUnavailable);
            }
        }
        return false;
    }

    /// <summary>The exception to throw across the grain boundary in place of <paramref name="cause"/>.</summary>
    /// <remarks>The cause is not attached: it may not serialize, and its text can quote SQL or hosts.</remarks>
    public static ServiceUnavailableException Unavailable(string dependency, Exception cause) =>
        new($"The service's database is not answering ({dependency}: {cause.GetType().Name}).") { Dependency = dependency };
}

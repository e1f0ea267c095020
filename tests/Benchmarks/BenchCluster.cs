using Orleans.Configuration;

namespace PatientConnect.Benchmarks;

/// <summary>
/// A cluster client's way to a benchmark stack's silos: its database's membership table, with the
/// database's name as cluster and service id (as <see cref="BenchProcesses.ServiceEnvironment"/> gives the silos).
/// </summary>
public static class BenchCluster
{
    public static IClientBuilder UseBenchCluster(this IClientBuilder client, string connectionString, string cluster)
    {
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = connectionString;
        });
        return client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster;
            o.ServiceId = cluster;
        });
    }
}

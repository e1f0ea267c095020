using Npgsql;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Health;

/// <summary>
/// Two silos and the Api that reach Postgres only through a TCP proxy the test can cut: the
/// database "goes down" for these processes while the shared test Postgres keeps serving everyone else.
/// </summary>
public sealed class ProxiedPostgresServices() : ServiceProcesses(silos: 2)
{
    private TcpProxy? _proxy;

    public TcpProxy Proxy => _proxy ?? throw new InvalidOperationException("Not started.");

    protected override Task BeforeStartAsync()
    {
        var admin = new NpgsqlConnectionStringBuilder(TestDatabase.AdminConnectionString);
        _proxy = new TcpProxy(admin.Host ?? "127.0.0.1", admin.Port);
        return Task.CompletedTask;
    }

    protected override string ServiceConnectionString(string direct) =>
        new NpgsqlConnectionStringBuilder(direct) { Host = "127.0.0.1", Port = Proxy.Port }.ConnectionString;

    protected override async ValueTask AfterStopAsync()
    {
        if (_proxy is not null) await _proxy.DisposeAsync();
        _proxy = null;
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.Tokens;

/// <summary>
/// Its own sandbox, silo and Api (tests here change sandbox settings), with refresh and webhook timings
/// shortened so minutes of behaviour fit in seconds, and an Orleans client to trigger refreshes directly.
/// </summary>
public class TokenServices : ServiceProcesses, IAsyncLifetime, IAsyncDisposable
{
    private IHost? _client;

    public TokenServices() : this(1) { }

    protected TokenServices(int silos) : base(silos) { }

    public IClusterClient Cluster => _client?.Services.GetRequiredService<IClusterClient>() ?? throw new InvalidOperationException("Not started.");

    /// <summary>
    /// The silos' refresh fault point (PatientConnect:Refresh:CrashAfterAnswerFile): while this file exists,
    /// the silo refreshing a connection kills itself after the source answered, before storing the answer.
    /// </summary>
    public string CrashMarkerFile { get; } = Path.Combine(Path.GetTempPath(), $"pc-refresh-crash-{Guid.NewGuid():N}");

    protected override void AddSiloEnvironment(Dictionary<string, string> env)
    {
        env["PatientConnect__Refresh__MarginFraction"] = "0.2";
        env["PatientConnect__Refresh__MinimumMargin"] = "00:00:05";
        env["PatientConnect__Refresh__ReminderPeriod"] = "00:01:00";
        env["PatientConnect__Refresh__RetryBaseDelay"] = "00:00:01";
        env["PatientConnect__Refresh__CrashAfterAnswerFile"] = CrashMarkerFile;
        env["PatientConnect__Webhooks__PollInterval"] = "00:00:00.200";
        env["PatientConnect__Webhooks__RetryBaseDelay"] = "00:00:00.300";
        env["PatientConnect__Webhooks__RetryMaxDelay"] = "00:00:02";
    }

    public new async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(client =>
        {
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = ConnectionString;
            });
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = ClusterId;
            });
        });
        _client = builder.Build();
        await _client.StartAsync();
    }

    public new async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                await _client.StopAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception)
            {
                // The cluster may already be gone.
            }
            _client.Dispose();
        }
        await base.DisposeAsync();
    }
}

public sealed class TwoSiloTokenServices() : TokenServices(2);

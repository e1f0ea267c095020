using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Messaging;

namespace PatientConnect.Grains.Tests.Api;

/// <summary>
/// The real Api (its Program, routing, auth, problem details) in process, its Orleans client pointed at
/// the test cluster of this assembly instead of the ADO.NET membership table. Postgres is never reached:
/// nothing these tests call needs it.
/// </summary>
public sealed class ApiFactory(ClusterFixture cluster) : WebApplicationFactory<Program>
{
    public const string ApiKey = "pc_test_api_factory_key_a";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Postgres", "Host=127.0.0.1;Port=1;Username=none;Password=none;Database=none");
        builder.UseSetting("PatientConnect:PublicBaseUrl", ClusterFixture.PublicBaseUrl);
        builder.UseSetting("PatientConnect:RateLimits:Enabled", "false");
        builder.UseSetting("PatientConnect:AllowLoopbackHttp", "true");
        builder.ConfigureTestServices(services =>
        {
            var options = cluster.Cluster.Options;
            services.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
            var gateways = cluster.Cluster.Silos.Select(s => s.GatewayAddress.ToGatewayUri()).ToList();
            services.AddSingleton<IGatewayListProvider>(new FixedGateways(gateways));
            // The cluster is already up: a failed connection is the test's failure, not a reason to wait.
            services.AddSingleton<IClientConnectionRetryFilter>(new NoRetry());
        });
    }

    /// <summary>A client whose requests carry a key of <see cref="ClusterFixture.TenantA"/>.</summary>
    public async Task<HttpClient> TenantClientAsync()
    {
        await cluster.Grains.GetGrain<PatientConnect.Tenants.IApiKeyGrain>(PatientConnect.Tenants.ApiKeys.Hash(ApiKey)).Assign(ClusterFixture.TenantA);
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ApiKey);
        return client;
    }

    private sealed class NoRetry : IClientConnectionRetryFilter
    {
        public Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken) => Task.FromResult(false);
    }

    private sealed class FixedGateways(IList<Uri> gateways) : IGatewayListProvider
    {
        public TimeSpan MaxStaleness => TimeSpan.FromMinutes(1);
        public bool IsUpdatable => false;
        public Task InitializeGatewayListProvider() => Task.CompletedTask;
        public Task<IList<Uri>> GetGateways() => Task.FromResult(gateways);
    }
}

using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.TestingHost;
using PatientConnect.Grains.Resilience;
using PatientConnect.Grains.Sessions;
using PatientConnect.Sessions;

[assembly: AssemblyFixture(typeof(PatientConnect.Grains.Tests.ClusterFixture))]
// One cluster and one hand-moved clock for all tests: a test that moves time must not run beside one
// that relies on it standing still.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]

namespace PatientConnect.Grains.Tests;

/// <summary>An in-process Orleans cluster (memory storage, in-memory reminders) beside a fake EHR.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string TenantA = "tenant-a";
    public const string TenantB = "tenant-b";
    public const string PublicBaseUrl = "https://connect.test";

    // Silos of a TestCluster run in this process: the configurator reads these statics.
    internal static ManualClock SharedClock { get; } = new();
    internal static IConfiguration? SharedConfiguration { get; private set; }

    public ManualClock Clock => SharedClock;
    public FakeEhr Ehr { get; private set; } = null!;
    public TestCluster Cluster { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.GrainFactory;

    public string SourceId(string hospital) => Ids.SourceIdFor(Ehr.FhirBase(hospital));

    /// <summary>
    /// A page of a patient's list as the contract's JSON, read from the rows every time through the silo's own
    /// index (what the page cache answers on a miss): the uncached reference the list tests compare against.
    /// </summary>
    public async Task<SessionPageJson> UncachedListJsonAsync(string tenantId, string patientId, SessionListQuery query)
    {
        var services = ((InProcessSiloHandle)Cluster.Primary!).SiloHost.Services;
        var (filter, limit) = SessionPages.Filter(tenantId, patientId, query, services.GetRequiredService<TimeProvider>().GetUtcNow());
        var read = await SessionPages.ReadJsonAsync(services.GetRequiredService<ISessionIndex>(), filter, limit,
            services.GetRequiredService<IOptions<PatientConnectOptions>>().Value);
        return read.Page;
    }

    public async ValueTask InitializeAsync()
    {
        Ehr = await FakeEhr.StartAsync(SharedClock);
        using var rsa = RSA.Create(2048);
        var sources = new[]
        {
            Source("riverside", "Riverside General Hospital", "epic", "Madison", "WI", "53703", clientId: "pc-public", auth: "none"),
            Source("lakeside", "Lakeside Medical Center", "cerner", "Kansas City", "MO", "64108", clientId: "pc-confidential",
                auth: "client_secret_basic", secret: "s3cret: &x"),
            Source("keyed", "Keyed Health", "payer", "Hartford", "CT", "06103", clientId: "pc-jwt", auth: "private_key_jwt",
                pem: rsa.ExportPkcs8PrivateKeyPem()),
            Source("legacy", "Legacy Clinic", "epic", "Madison", "WI", "53711", clientId: "pc-public", auth: "none"),
            Source("down", "Downtown Hospital", "epic", "Madison", "WI", "53703", clientId: "pc-public", auth: "none"),
            Source("unregistered", "Unregistered Clinic", "cerner", "Springfield", "IL", "62701"),
            Source("hidden", "Hidden Lab", "epic", "Madison", "WI", "53703", clientId: "pc-public", auth: "none", hidden: true),
        };
        var settings = new Dictionary<string, string?>
        {
            ["PatientConnect:PublicBaseUrl"] = PublicBaseUrl + "/",
            ["PatientConnect:TokenEncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            // The fake EHR listens on 127.0.0.1.
            ["PatientConnect:Outbound:AllowLoopback"] = "true",
        };
        for (var i = 0; i < sources.Length; i++)
        {
            foreach (var (key, value) in sources[i]) settings[$"Directory:Sources:{i}:{key}"] = value;
        }
        SharedConfiguration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        // TCP, not the in-memory transport: the Api tests' WebApplicationFactory connects to the gateway as a real client.
        var builder = new TestClusterBuilder { Options = { InitialSilosCount = 1, ConnectionTransport = ConnectionTransportType.TcpSocket } };
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    private Dictionary<string, string?> Source(
        string hospital, string name, string vendor, string city, string state, string zip,
        string? clientId = null, string? auth = null, string? secret = null, string? pem = null, bool hidden = false) => new()
    {
        ["Name"] = name,
        ["Vendor"] = vendor,
        ["FhirBaseUrl"] = Ehr.FhirBase(hospital),
        ["City"] = city,
        ["State"] = state,
        ["Zip"] = zip,
        ["ClientId"] = clientId,
        ["AuthMethod"] = auth,
        ["ClientSecret"] = secret,
        ["PrivateKeyPem"] = pem,
        ["KeyId"] = pem is null ? null : "k1",
        ["Hidden"] = hidden ? "true" : null,
    };

    public async ValueTask DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.StopAllSilosAsync();
            await Cluster.DisposeAsync();
        }
        if (Ehr is not null) await Ehr.DisposeAsync();
    }

    /// <summary>The test's client retries [Retryable] calls like the Api's client does.</summary>
    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.AddOutgoingGrainCallFilter<PatientConnect.Resilience.ClusterCallRetryFilter>();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.AddMemoryGrainStorage("store");
            silo.UseInMemoryReminderService();
            silo.Services.AddSingleton<TimeProvider>(SharedClock);
            silo.Services.AddPatientConnectGrains(SharedConfiguration!);
            silo.Services.AddPatientConnectSessionScheduler();
            // The silo's own retry and database-outage filters, as in production, and the test's faults.
            silo.AddPatientConnectResilience();
            silo.AddIncomingGrainCallFilter<FaultInjection>();
        }
    }
}

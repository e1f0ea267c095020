using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PatientConnect.Grains.Outbound;
using PatientConnect.Grains.Smart;
using PatientConnect.Grains.Webhooks;

namespace PatientConnect.Grains.Tests;

/// <summary>The outbound guard: which URLs are refused when registered, and which addresses at connect time.</summary>
public sealed class OutboundGuardTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static OutboundGuard Guard(bool allowLoopback = false, string[]? hosts = null, string[]? networks = null,
        Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null) =>
        new(Options.Create(new OutboundOptions
        {
            AllowLoopback = allowLoopback,
            AllowedHosts = [.. hosts ?? []],
            AllowedNetworks = [.. networks ?? []],
        }), resolve);

    public static TheoryData<string> PrivateUrls =>
    [
        "https://10.0.0.1/", "https://169.254.169.254/latest/meta-data/", "https://[fe80::1]/", "https://192.168.1.1/",
        "https://172.16.0.1/", "https://0.0.0.0/", "https://[::]/", "https://[::ffff:10.0.0.1]/", "https://[::ffff:169.254.169.254]/",
        "https://[fc00::1]/", "https://100.64.0.1/", "https://224.0.0.1/", "https://[ff02::1]/", "https://255.255.255.255/",
        "https://metadata.google.internal/", "https://printer.local/", "https://intranet/", "https://[::a00:1]/",
    ];

    public static TheoryData<string> LoopbackUrls =>
    [
        "https://127.0.0.1/", "https://[::1]/", "https://localhost/", "https://api.localhost/", "https://2130706433/",
        "https://0x7f000001/", "https://0177.0.0.1/", "https://127.1/", "https://127.0.0.1:5432/", "https://[::ffff:127.0.0.1]/",
        "http://127.0.0.1:9/hooks",
    ];

    [Theory]
    [MemberData(nameof(PrivateUrls))]
    public void Private_link_local_and_internal_urls_are_refused_in_every_set_up(string url)
    {
        Assert.NotNull(Guard(allowLoopback: false).CheckUrl(url));
        Assert.NotNull(Guard(allowLoopback: true).CheckUrl(url));
    }

    [Theory]
    [MemberData(nameof(LoopbackUrls))]
    public void Loopback_urls_are_refused_unless_loopback_is_allowed(string url)
    {
        Assert.Contains("loopback", Guard(allowLoopback: false).CheckUrl(url));
        Assert.Null(Guard(allowLoopback: true).CheckUrl(url));
    }

    [Fact]
    public void Public_https_urls_pass_and_the_operator_can_name_private_hosts_and_networks()
    {
        Assert.Null(Guard().CheckUrl("https://app.example.com/hooks"));
        Assert.Null(Guard().CheckUrl("https://93.184.216.34/hooks"));
        Assert.NotNull(Guard().CheckUrl("http://app.example.com/hooks"));
        Assert.Null(Guard(networks: ["10.20.0.0/16"]).CheckUrl("https://10.20.3.4/"));
        Assert.NotNull(Guard(networks: ["10.20.0.0/16"]).CheckUrl("https://10.21.3.4/"));
        Assert.Null(Guard(hosts: ["sandbox.localhost"]).CheckUrl("http://sandbox.localhost:8090/x"));
    }

    [Fact]
    public async Task A_name_that_resolves_to_127_0_0_1_is_refused_at_connect_time()
    {
        await using var server = await TestServer.StartAsync(_ => Results.Text("hello"));
        var resolver = Resolver("rebound.example", IPAddress.Loopback);
        using var refused = new HttpClient(Guard(allowLoopback: false, resolve: resolver).Protect(new SocketsHttpHandler()));

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => refused.GetStringAsync($"http://rebound.example:{server.Port}/", Cancel));
        var blocked = Assert.IsType<OutboundBlockedException>(error.InnerException);
        Assert.Equal("loopback", blocked.Category);
        Assert.Equal(OutboundFailure.BlockedAddress, OutboundFailure.Categorize(error));
        Assert.Equal(0, server.Requests);

        // The same name through a guard that allows loopback reaches the server: the guard's own
        // resolution is what gets dialled, so a check at registration cannot be bypassed by DNS later.
        using var allowed = new HttpClient(Guard(allowLoopback: true, resolve: resolver).Protect(new SocketsHttpHandler()));
        Assert.Equal("hello", await allowed.GetStringAsync($"http://rebound.example:{server.Port}/", Cancel));
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Only_allowed_addresses_of_a_name_are_dialled_and_mapped_forms_are_judged_as_ipv4()
    {
        var guard = Guard(resolve: Resolver("mixed.example", IPAddress.Parse("::ffff:10.0.0.1"), IPAddress.Parse("169.254.169.254")));
        using var client = new HttpClient(guard.Protect(new SocketsHttpHandler()));
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync("http://mixed.example:80/", Cancel));
        Assert.Equal("private", Assert.IsType<OutboundBlockedException>(error.InnerException).Category);
    }

    [Fact]
    public async Task A_refused_connection_is_reported_as_its_category()
    {
        var port = FreePort();
        using var client = new HttpClient(Guard(allowLoopback: true).Protect(new SocketsHttpHandler()));
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync($"http://127.0.0.1:{port}/", Cancel));
        Assert.Equal(OutboundFailure.ConnectionRefused, OutboundFailure.Categorize(error));
        Assert.Equal("http_5xx", OutboundFailure.ForStatus(503));
    }

    [Theory]
    [InlineData("https://fhir-myrecord.cerner.com/r4/abc", "https://authorization.cerner.com/tenants/abc/token", null)]
    [InlineData("https://fhir.example.org/api/FHIR/R4", "https://fhir.example.org/oauth2/token", null)]
    [InlineData("https://ehr.trust.nhs.uk/fhir", "https://auth.trust.nhs.uk/token", null)]
    [InlineData("https://fhir.hospital.org/r4", "https://evil.example/token", "outside the domain")]
    [InlineData("https://fhir.hospital.org/r4", "https://hospital.org.evil.example/token", "outside the domain")]
    [InlineData("https://fhir.hospital.org/r4", "http://auth.hospital.org/token", "not https")]
    [InlineData("https://ehr.a.co.uk/fhir", "https://auth.b.co.uk/token", "outside the domain")]
    public void Discovery_endpoints_must_be_https_within_the_fhir_servers_domain(string fhirBase, string endpoint, string? refused)
    {
        var why = EndpointTrust.Check(fhirBase, endpoint, "epic", Guard());
        if (refused is null) Assert.Null(why);
        else Assert.Contains(refused, why);
    }

    [Fact]
    public void An_operator_may_trust_an_authorization_domain_per_vendor()
    {
        var guard = new OutboundGuard(Options.Create(new OutboundOptions
        {
            TrustedAuthorizationDomains = new(StringComparer.OrdinalIgnoreCase) { ["epic"] = ["epicauth.example"] },
        }));
        Assert.Null(EndpointTrust.Check("https://fhir.hospital.org/r4", "https://login.epicauth.example/token", "epic", guard));
        Assert.NotNull(EndpointTrust.Check("https://fhir.hospital.org/r4", "https://login.epicauth.example/token", "cerner", guard));
    }

    [Fact]
    public async Task Discovery_naming_a_token_endpoint_on_an_unrelated_domain_is_refused_with_a_clear_code()
    {
        var token = "https://collector.unrelated.example/token";
        await using var ehr = await TestServer.StartAsync(_ => Results.Json(new
        {
            authorization_endpoint = "http://127.0.0.1/authorize",
            token_endpoint = token,
            capabilities = new[] { "launch-standalone" },
        }));
        await using var provider = new ServiceCollection()
            .AddLogging()
            .AddPatientConnectGrains(new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["PatientConnect:Outbound:AllowLoopback"] = "true" }).Build())
            .BuildServiceProvider();
        var smart = provider.GetRequiredService<SmartClient>();

        var error = await Assert.ThrowsAsync<SmartException>(() => smart.DiscoverAsync($"http://127.0.0.1:{ehr.Port}/fhir", Cancel));
        Assert.Equal(SmartClient.EndpointRefusedCode, error.Code);
        Assert.Contains("token endpoint", error.Description);
        Assert.Contains("collector.unrelated.example", error.Description);
    }

    [Fact]
    public async Task Smart_fhir_and_webhook_clients_all_connect_through_the_guard()
    {
        await using var server = await TestServer.StartAsync(_ => Results.Text("{}", "application/json"));
        await using var provider = new ServiceCollection()
            .AddLogging()
            .AddPatientConnectGrains(new ConfigurationBuilder().Build())
            .AddPatientConnectWebhookDispatcher()
            // No cluster here: the FHIR client's rate-budget step finds none and sends unpaced, as it
            // does when its grain cannot be reached; the guard below it is what is tested.
            .AddSingleton(System.Reflection.DispatchProxy.Create<IGrainFactory, NoCluster>())
            .BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        foreach (var name in new[] { SmartClient.HttpClientName, Sync.FhirClient.HttpClientName, Webhooks.WebhookDispatcher.HttpClientName })
        {
            using var client = factory.CreateClient(name);
            using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{server.Port}/");
            var error = await Assert.ThrowsAnyAsync<Exception>(() => client.SendAsync(request, Cancel));
            Assert.Equal(OutboundFailure.BlockedAddress, OutboundFailure.Categorize(error));
        }
        Assert.Equal(0, server.Requests);
    }

    /// <summary>A grain factory with no cluster behind it: every call fails.</summary>
    public class NoCluster : System.Reflection.DispatchProxy
    {
        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args) =>
            throw new InvalidOperationException("There is no cluster in this test.");
    }

    private static Func<string, CancellationToken, Task<IPAddress[]>> Resolver(string name, params IPAddress[] addresses) =>
        (host, _) => host == name ? Task.FromResult(addresses) : throw new InvalidOperationException($"unexpected lookup of {host}");

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A Kestrel server on 127.0.0.1 answering every request the same way, counting them.</summary>
    private sealed class TestServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private TestServer(WebApplication app) => _app = app;

        public int Port { get; private set; }
        public int Requests => Volatile.Read(ref _requests);

        public static async Task<TestServer> StartAsync(Func<HttpContext, IResult> answer)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var server = new TestServer(app);
            app.Run(async context =>
            {
                Interlocked.Increment(ref server._requests);
                await answer(context).ExecuteAsync(context);
            });
            await app.StartAsync();
            server.Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
            return server;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}

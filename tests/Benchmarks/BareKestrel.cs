using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PatientConnect.Benchmarks;

/// <summary>
/// The floor of a read: Kestrel alone on 127.0.0.1 answering one GET path with constant bytes, after the
/// same shape of Bearer check the Api makes. What a service answering the same JSON cannot beat.
/// </summary>
public sealed class BareKestrel : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BareKestrel(WebApplication app, Uri url, int bytes)
    {
        _app = app;
        Url = url;
        Bytes = bytes;
    }

    /// <summary>Where it listens (ends with '/').</summary>
    public Uri Url { get; }

    /// <summary>The size of the answer.</summary>
    public int Bytes { get; }

    public static async Task<BareKestrel> StartAsync(string path, string json)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var body = Encoding.UTF8.GetBytes(json);
        app.MapGet(path, async (HttpContext context) =>
        {
            if (!context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.Body.WriteAsync(body);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BareKestrel(app, new Uri(address.TrimEnd('/') + "/"), body.Length);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

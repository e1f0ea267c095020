using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StandardWebhooks;

namespace PatientConnect.EndToEnd.Tests.Webhooks;

/// <summary>
/// An app's webhook endpoint on 127.0.0.1: checks every request with the StandardWebhooks verifier,
/// can be told to fail (500) the next N requests, and keeps what it accepted in arrival order.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<JsonObject> _accepted = new();
    private int _failNext;
    private int _requests;
    private int _badSignatures;

    private WebhookReceiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";
    public string? Secret { get; set; }
    public int Requests => Volatile.Read(ref _requests);
    public int BadSignatures => Volatile.Read(ref _badSignatures);
    /// <summary>While true every request is answered 503 (an endpoint that is down).</summary>
    public bool Down { get; set; }

    /// <summary>
    /// Secrets each accepted event is also checked against, one by one, the way a receiver in the middle
    /// of a rotation checks: the webhook-signature header split into its space-separated entries, each
    /// verified on its own (the StandardWebhooks library does not check the last of several entries).
    /// An accepted event's <c>_verified_by</c> lists the indexes of the secrets that verify it.
    /// </summary>
    public IReadOnlyList<string> CheckSecrets { get; set; } = [];

    public void FailNext(int count) => Interlocked.Exchange(ref _failNext, count);

    public IReadOnlyList<JsonObject> Accepted => _accepted.ToArray();

    public IReadOnlyList<JsonObject> For(string aggregateId) =>
        Accepted.Where(e => e["data"]?["id"]?.GetValue<string>() == aggregateId).ToList();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hooks", receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address.TrimEnd('/') + "/hooks";
        return receiver;
    }

    private async Task<IResult> HandleAsync(HttpRequest request)
    {
        Interlocked.Increment(ref _requests);
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync();
        if (Down) return Results.StatusCode(503);
        if (Interlocked.Decrement(ref _failNext) >= 0) return Results.StatusCode(500);
        var verifiedBy = new JsonArray();
        for (var i = 0; i < CheckSecrets.Count; i++)
        {
            if (VerifiesWith(CheckSecrets[i], body, request.Headers)) verifiedBy.Add(i);
        }
        if (!(Secret is null && CheckSecrets.Count > 0 ? verifiedBy.Count > 0 : VerifiesWith(Secret ?? throw new InvalidOperationException("no secret"), body, request.Headers)))
        {
            Interlocked.Increment(ref _badSignatures);
            return Results.StatusCode(400);
        }
        var json = JsonNode.Parse(body)!.AsObject();
        json["_webhook_id"] = request.Headers["webhook-id"].ToString();
        json["_verified_by"] = verifiedBy;
        json["_signatures"] = request.Headers["webhook-signature"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        _accepted.Enqueue(json);
        return Results.NoContent();
    }

    /// <summary>True when any one of the header's signature entries verifies with <paramref name="secret"/>.</summary>
    private static bool VerifiesWith(string secret, string body, IHeaderDictionary headers)
    {
        foreach (var entry in headers["webhook-signature"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var single = new HeaderDictionary
            {
                ["webhook-id"] = headers["webhook-id"],
                ["webhook-timestamp"] = headers["webhook-timestamp"],
                ["webhook-signature"] = entry,
            };
            try
            {
                new StandardWebhook(secret).Verify(body, single);
                return true;
            }
            catch (Exception)
            {
                // Another entry may be this secret's.
            }
        }
        return false;
    }

    /// <summary>Polls until <paramref name="done"/> holds or the time is up (then fails with what arrived).</summary>
    public async Task WaitUntilAsync(Func<WebhookReceiver, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!done(this))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for {what}; accepted: " +
                    string.Join(", ", Accepted.Select(e => $"{e["type"]}:{e["data"]?["id"]}")));
            }
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

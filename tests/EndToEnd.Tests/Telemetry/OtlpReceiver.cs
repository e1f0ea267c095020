using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PatientConnect.EndToEnd.Tests.Telemetry;

/// <summary>One exported span, as the collector sees it.</summary>
public sealed record ReceivedSpan(
    string Service, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind,
    IReadOnlyDictionary<string, string> Attributes)
{
    public string? Attr(string key) => Attributes.GetValueOrDefault(key);

    public override string ToString() => $"[{Service}/{Scope}] {Name} kind={Kind} {SpanId}<-{ParentSpanId}";
}

/// <summary>
/// A local OTLP/HTTP collector on 127.0.0.1 (protocol http/protobuf): keeps the spans posted to
/// /v1/traces, accepts and ignores /v1/metrics and /v1/logs. The protobuf is read with a small
/// wire-format reader over the few OTLP fields a test looks at.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private int _requests;

    private OtlpReceiver(WebApplication app) => _app = app;

    public string Endpoint { get; private set; } = "";
    public IReadOnlyList<ReceivedSpan> Spans => _spans.ToArray();
    public int Requests => Volatile.Read(ref _requests);

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", receiver.TracesAsync);
        app.MapPost("/v1/metrics", receiver.IgnoreAsync);
        app.MapPost("/v1/logs", receiver.IgnoreAsync);
        await app.StartAsync();
        receiver.Endpoint = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return receiver;
    }

    private async Task<IResult> TracesAsync(HttpRequest request)
    {
        Interlocked.Increment(ref _requests);
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        foreach (var span in Parse(buffer.ToArray())) _spans.Enqueue(span);
        return Results.Bytes([], "application/x-protobuf");
    }

    private async Task<IResult> IgnoreAsync(HttpRequest request)
    {
        await request.Body.CopyToAsync(Stream.Null);
        return Results.Bytes([], "application/x-protobuf");
    }

    // ExportTraceServiceRequest { 1: ResourceSpans* } ResourceSpans { 1: Resource, 2: ScopeSpans* }
    // Resource { 1: KeyValue* } ScopeSpans { 1: InstrumentationScope { 1: name }, 2: Span* }
    // Span { 1: trace_id, 2: span_id, 4: parent_span_id, 5: name, 6: kind, 9: KeyValue* }
    private static IEnumerable<ReceivedSpan> Parse(byte[] body)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var (field, resourceSpans) in Protobuf.Fields(body))
        {
            if (field != 1) continue;
            var service = "";
            var scopes = new List<byte[]>();
            foreach (var (f, value) in Protobuf.Fields(resourceSpans))
            {
                if (f == 1) service = Attributes(value).GetValueOrDefault("service.name", "");
                else if (f == 2) scopes.Add(value);
            }
            foreach (var scopeSpans in scopes)
            {
                var scope = "";
                foreach (var (f, value) in Protobuf.Fields(scopeSpans))
                {
                    if (f == 1) scope = Protobuf.String(Protobuf.Fields(value).FirstOrDefault(x => x.Field == 1).Value);
                    else if (f == 2) spans.Add(Span(service, scope, value));
                }
            }
        }
        return spans;
    }

    private static ReceivedSpan Span(string service, string scope, byte[] span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var kind = 0;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (f, value) in Protobuf.Fields(span))
        {
            switch (f)
            {
                case 1: traceId = Convert.ToHexStringLower(value); break;
                case 2: spanId = Convert.ToHexStringLower(value); break;
                case 4: parent = Convert.ToHexStringLower(value); break;
                case 5: name = Protobuf.String(value); break;
                case 6: kind = (int)Protobuf.Varint(value); break;
                case 9:
                    var (key, text) = KeyValue(value);
                    attributes[key] = text;
                    break;
            }
        }
        return new ReceivedSpan(service, scope, traceId, spanId, parent, name, kind, attributes);
    }

    private static Dictionary<string, string> Attributes(byte[] resource)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (f, value) in Protobuf.Fields(resource))
        {
            if (f != 1) continue;
            var (key, text) = KeyValue(value);
            attributes[key] = text;
        }
        return attributes;
    }

    // KeyValue { 1: key, 2: AnyValue { 1: string, 2: bool, 3: int64, 4: double, ... } }; other kinds as "".
    private static (string Key, string Value) KeyValue(byte[] keyValue)
    {
        var key = "";
        var text = "";
        foreach (var (f, value) in Protobuf.Fields(keyValue))
        {
            if (f == 1) key = Protobuf.String(value);
            else if (f == 2)
            {
                foreach (var (kind, any) in Protobuf.Fields(value))
                {
                    text = kind switch
                    {
                        1 => Protobuf.String(any),
                        2 => (Protobuf.Varint(any) != 0).ToString(),
                        3 => Protobuf.Varint(any).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        4 => BitConverter.ToDouble(any).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        _ => "",
                    };
                }
            }
        }
        return (key, text);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    /// <summary>The protobuf wire format: (field number, raw value) pairs; varints come back as their bytes.</summary>
    private static class Protobuf
    {
        public static List<(int Field, byte[] Value)> Fields(byte[]? data)
        {
            var fields = new List<(int, byte[])>();
            if (data is null) return fields;
            var i = 0;
            while (i < data.Length)
            {
                var tag = ReadVarint(data, ref i);
                var field = (int)(tag >> 3);
                switch ((int)(tag & 7))
                {
                    case 0:
                        var start = i;
                        ReadVarint(data, ref i);
                        fields.Add((field, data[start..i]));
                        break;
                    case 1:
                        fields.Add((field, data[i..(i + 8)]));
                        i += 8;
                        break;
                    case 2:
                        var length = (int)ReadVarint(data, ref i);
                        fields.Add((field, data[i..(i + length)]));
                        i += length;
                        break;
                    case 5:
                        fields.Add((field, data[i..(i + 4)]));
                        i += 4;
                        break;
                    default:
                        throw new InvalidDataException($"Unsupported protobuf wire type {tag & 7}.");
                }
            }
            return fields;
        }

        public static ulong Varint(byte[] raw)
        {
            var i = 0;
            return ReadVarint(raw, ref i);
        }

        public static string String(byte[]? raw) => raw is null ? "" : System.Text.Encoding.UTF8.GetString(raw);

        private static ulong ReadVarint(byte[] data, ref int i)
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = data[i++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return value;
            }
            throw new InvalidDataException("Malformed varint.");
        }
    }
}

using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace PatientConnect.Api.Hosting;

/// <summary>
/// Kestrel refuses some requests before any middleware runs (a <c>%00</c> in the path, a malformed
/// request line or header) and answers them with an empty body that no hook can change
/// (dotnet/aspnetcore#4726). This connection filter gives those answers the same problem+json body
/// every other error has. It recognises them by their shape: an HTTP/1.1 4xx/5xx head with
/// <c>Content-Length: 0</c> and <c>Connection: close</c>, written in one piece as the connection's
/// last answer. Every other write passes straight through to the transport, uncopied.
/// </summary>
public static class KestrelRefusals
{
    public static void Use(ListenOptions listen) => listen.Use(next => context =>
    {
        context.Transport = new Pipe(context.Transport);
        return next(context);
    });

    private static readonly byte[] Http11 = "HTTP/1.1 "u8.ToArray();
    private static readonly byte[] EmptyLength = "\r\nContent-Length: 0\r\n"u8.ToArray();
    private static readonly byte[] Close = "\r\nConnection: close\r\n"u8.ToArray();
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>The rewritten answer, or null when <paramref name="written"/> is not a bare refusal.</summary>
    public static byte[]? Rewrite(ReadOnlySpan<byte> written)
    {
        if (written.Length < 16 || written.Length > 4096 || !written.StartsWith(Http11)
            || written[9] is not ((byte)'4' or (byte)'5') || !written.EndsWith(HeadEnd)
            || written.IndexOf(EmptyLength) < 0 || written.IndexOf(Close) < 0)
        {
            return null;
        }
        var status = int.Parse(Encoding.ASCII.GetString(written.Slice(9, 3)), System.Globalization.CultureInfo.InvariantCulture);
        var (slug, code, title) = Errors.StatusCodeProblems.Describe(status);
        var body = Encoding.UTF8.GetBytes(
            $$"""{"type":"{{Errors.Problems.TypeBase}}{{slug}}","title":"{{title}}","status":{{status}},"detail":"The server could not read this request (its request line, path or headers are malformed).","code":"{{code}}"}""");
        var head = Encoding.ASCII.GetString(written[..^2]).Replace(
            "\r\nContent-Length: 0\r\n",
            $"\r\nContent-Type: application/problem+json\r\nContent-Length: {body.Length}\r\n", StringComparison.Ordinal);
        return [.. Encoding.ASCII.GetBytes(head), .. "\r\n"u8, .. body];
    }

    private sealed class Pipe(IDuplexPipe inner) : IDuplexPipe
    {
        public PipeReader Input => inner.Input;
        public PipeWriter Output { get; } = new Writer(inner.Output);
    }

    /// <summary>Hands out the transport's own buffers; looks only at what is committed with Advance.</summary>
    private sealed class Writer(PipeWriter inner) : PipeWriter
    {
        private Memory<byte> _last;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _last = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => (_last = inner.GetMemory(sizeHint)).Span;

        public override void Advance(int bytes)
        {
            if (bytes > 0 && bytes <= _last.Length && _last.Span[0] == (byte)'H' && Rewrite(_last.Span[..bytes]) is { } answer)
            {
                // Not advanced: the transport's buffer is simply written over with the fuller answer.
                _last = default;
                inner.Write(answer);
                return;
            }
            _last = default;
            inner.Advance(bytes);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;
    }
}

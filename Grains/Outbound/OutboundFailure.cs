using System.Net.Http;
using System.Net.Sockets;
using System.Security.Authentication;

namespace PatientConnect.Grains.Outbound;

/// <summary>
/// What a failed outbound request comes to, as a category a tenant may see. The transport's own text
/// (which names addresses, ports and resolver answers) would make delivery logs a port scanner.
/// </summary>
public static class OutboundFailure
{
    public const string Timeout = "timeout";
    public const string ConnectionRefused = "connection_refused";
    public const string TlsError = "tls_error";
    public const string BlockedAddress = "blocked_address";
    public const string DnsError = "dns_error";
    public const string ConnectionError = "connection_error";

    public static string Categorize(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case OutboundBlockedException:
                    return BlockedAddress;
                case AuthenticationException:
                    return TlsError;
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return ConnectionRefused;
                case SocketException { SocketErrorCode: SocketError.TimedOut }:
                case TimeoutException:
                case OperationCanceledException:
                    return Timeout;
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain }:
                    return DnsError;
            }
        }
        return exception is HttpRequestException { HttpRequestError: var error } ? error switch
        {
            HttpRequestError.NameResolutionError => DnsError,
            HttpRequestError.SecureConnectionError => TlsError,
            _ => ConnectionError,
        } : ConnectionError;
    }

    /// <summary>A non-2xx answer: http_5xx, http_4xx or http_3xx (redirects are never followed).</summary>
    public static string ForStatus(int status) => $"http_{status / 100}xx";
}

using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace PatientConnect.Grains.Outbound;

/// <summary>
/// The one place that decides where the service may connect. Every outbound HttpClient (webhooks,
/// SMART, FHIR) connects through <see cref="ConnectAsync"/>: the host is resolved there and then and
/// only an allowed address is dialled, so a name that resolves to a public address when a URL is
/// registered and to 127.0.0.1 later (DNS rebinding) is still refused. <see cref="CheckUrl"/> is the
/// same rule applied early, without DNS, to give a tenant a clear answer when registering a URL.
/// </summary>
public sealed class OutboundGuard
{
    private readonly OutboundOptions _options;
    private readonly IReadOnlyList<IPNetwork> _allowedNetworks;
    private readonly HashSet<string> _allowedHosts;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;

    public OutboundGuard(IOptions<OutboundOptions> options, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
    {
        _options = options.Value;
        _allowedNetworks = _options.AllowedNetworks.Select(n => IPNetwork.Parse(n.Trim())).ToList();
        _allowedHosts = new HashSet<string>(_options.AllowedHosts.Select(h => h.Trim().TrimEnd('.')), StringComparer.OrdinalIgnoreCase);
        _resolve = resolve ?? ((host, ct) => Dns.GetHostAddressesAsync(host, ct));
    }

    public OutboundOptions Options => _options;

    /// <summary>Names the operator trusts whatever they resolve to.</summary>
    public bool IsAllowedHost(string host) => _allowedHosts.Contains(host.TrimEnd('.'));

    /// <summary>Sets the guard as the handler's way to open connections (and turns proxies off: a proxy would be the only address checked).</summary>
    public SocketsHttpHandler Protect(SocketsHttpHandler handler)
    {
        handler.ConnectCallback = ConnectAsync;
        handler.UseProxy = false;
        return handler;
    }

    /// <summary>
    /// Null when <paramref name="url"/> may receive requests as far as can be told without DNS;
    /// otherwise why not, in words for the tenant. https only, except http on loopback where loopback
    /// is allowed and http to a host the operator named.
    /// </summary>
    public string? CheckUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return "must be an absolute https URL.";
        }
        var host = uri.IdnHost.TrimEnd('.');
        if (IsAllowedHost(host)) return null;
        var category = CategoryOf(host);
        if (category is not null && !(category == "loopback" && _options.AllowLoopback)
            && !(IPAddress.TryParse(host, out var literal) && AddressPolicy.IsAllowed(literal, category, _options, _allowedNetworks)))
        {
            return $"must be a public address: {uri.Host} is a {category.Replace('_', ' ')} address, which this service does not send requests to.";
        }
        if (uri.Scheme == Uri.UriSchemeHttp && category != "loopback") return "must be an absolute https URL.";
        return null;
    }

    /// <summary>What a host is by its spelling alone: an address literal's class, or a name that is never public.</summary>
    public static string? CategoryOf(string host)
    {
        host = host.TrimEnd('.');
        if (IPAddress.TryParse(host, out var address)) return AddressPolicy.Classify(address);
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return "loopback";
        }
        // Names reserved for private networks (RFC 6762 .local, ICANN's .internal, home.arpa) and
        // single-label names, which only a local resolver answers (metadata.google.internal among them).
        if (!host.Contains('.') || host.EndsWith(".internal", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".local", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".home.arpa", StringComparison.OrdinalIgnoreCase))
        {
            return "internal_name";
        }
        return null;
    }

    /// <summary>The SocketsHttpHandler connect step: resolve, drop refused addresses, dial the rest.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host.TrimEnd('.');
        var trusted = IsAllowedHost(host);
        if (!trusted && CategoryOf(host) is "internal_name") throw new OutboundBlockedException(host, "internal_name");

        IPAddress[] addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await _resolve(host, cancellationToken);
        var allowed = new List<IPAddress>(addresses.Length);
        string? refused = null;
        foreach (var address in addresses)
        {
            var category = AddressPolicy.Classify(address);
            if (trusted || category is null || AddressPolicy.IsAllowed(address, category, _options, _allowedNetworks)) allowed.Add(address);
            else refused ??= category;
        }
        if (allowed.Count == 0) throw new OutboundBlockedException(host, refused ?? "unresolved");

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed.ToArray(), context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

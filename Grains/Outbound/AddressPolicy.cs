using System.Net;
using System.Net.Sockets;

namespace PatientConnect.Grains.Outbound;

/// <summary>
/// Which addresses are not the public internet. IPv4-mapped and IPv4-compatible IPv6 forms are judged
/// as the IPv4 address they carry, so <c>[::ffff:127.0.0.1]</c> is loopback like 127.0.0.1.
/// </summary>
public static class AddressPolicy
{
    /// <summary>Null for a public address; otherwise what it is (loopback, private, link_local, …).</summary>
    public static string? Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            // ::a.b.c.d (IPv4-compatible, deprecated) still reaches a.b.c.d on some stacks.
            if (bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && !(bytes[12] == 0 && bytes[13] == 0 && bytes[14] == 0 && bytes[15] <= 1))
            {
                address = new IPAddress(bytes.AsSpan(12, 4));
            }
        }
        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => ClassifyV4(address.GetAddressBytes()),
            AddressFamily.InterNetworkV6 => ClassifyV6(address),
            _ => "unsupported",
        };
    }

    private static string? ClassifyV4(byte[] b) => b switch
    {
        [0, ..] => "unspecified",
        [127, ..] => "loopback",
        [10, ..] => "private",
        [172, >= 16 and <= 31, ..] => "private",
        [192, 168, ..] => "private",
        [100, >= 64 and <= 127, ..] => "private",        // carrier-grade NAT, RFC 6598
        [169, 254, ..] => "link_local",                  // cloud metadata services live here
        [192, 0, 0, ..] => "reserved",                   // IETF protocol assignments
        [198, 18 or 19, ..] => "reserved",               // benchmarking
        [>= 224 and <= 239, ..] => "multicast",
        [>= 240, ..] => "reserved",                      // includes 255.255.255.255
        _ => null,
    };

    private static string? ClassifyV6(IPAddress address)
    {
        if (address.Equals(IPAddress.IPv6Loopback)) return "loopback";
        if (address.Equals(IPAddress.IPv6Any)) return "unspecified";
        if (address.IsIPv6LinkLocal) return "link_local";
        if (address.IsIPv6SiteLocal) return "private";
        if (address.IsIPv6Multicast) return "multicast";
        var first = address.GetAddressBytes()[0];
        if ((first & 0xFE) == 0xFC) return "private";    // unique local fc00::/7
        return null;
    }

    /// <summary>Whether a refused class of address is allowed anyway by the operator's settings.</summary>
    public static bool IsAllowed(IPAddress address, string category, OutboundOptions options, IReadOnlyList<IPNetwork> allowedNetworks)
    {
        if (category == "loopback" && options.AllowLoopback) return true;
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var network in allowedNetworks)
        {
            if (network.Contains(plain)) return true;
        }
        return false;
    }
}

namespace PatientConnect.Grains.Outbound;

/// <summary>A request was not sent because its host is, or resolves to, an address the guard refuses.</summary>
public sealed class OutboundBlockedException(string host, string category)
    : Exception($"Requests to {host} are not allowed ({category.Replace('_', ' ')} address).")
{
    public string Host { get; } = host;

    /// <summary>loopback, private, link_local, multicast, unspecified, reserved, internal_name.</summary>
    public string Category { get; } = category;
}

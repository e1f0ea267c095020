namespace PatientConnect.Grains.Outbound;

/// <summary>
/// <c>PatientConnect:Outbound</c>: where the service may send requests on behalf of a tenant or a
/// source (webhooks, SMART discovery and the endpoints it names, FHIR pages). Public addresses only,
/// unless named here.
/// </summary>
public sealed class OutboundOptions
{
    public const string SectionName = "PatientConnect:Outbound";

    /// <summary>
    /// Loopback addresses (127.0.0.0/8, ::1, localhost) may be reached. On in the development set-up
    /// (./run.sh, tests) where the sandbox EHR and webhook receivers listen on 127.0.0.1; off in production.
    /// </summary>
    public bool AllowLoopback { get; set; }

    /// <summary>
    /// Host names the operator trusts whatever they resolve to (a sandbox on a private network, an
    /// EHR behind a VPN). Exact names, case-insensitive; plain http is then accepted for them too.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Networks in CIDR form (10.20.0.0/16, fd00:1::/64) that may be reached although private.</summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>
    /// Domains that SMART discovery may name for authorize, token, JWKS and revocation endpoints in
    /// addition to the FHIR server's own registrable domain, per vendor (the directory's Vendor value)
    /// or under "*" for every source: e.g. <c>TrustedAuthorizationDomains:epic:0 = epic.com</c>.
    /// </summary>
    public Dictionary<string, List<string>> TrustedAuthorizationDomains { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

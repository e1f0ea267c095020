using SandboxEhr.Data;

namespace SandboxEhr.Hospitals;

public sealed class Hospital(HospitalInfo info, PatientStore patients, HospitalSettings defaults)
{
    private HospitalSettings _settings = defaults;
    private long _requestCount;

    public HospitalInfo Info => info;
    public PatientStore Patients => patients;
    public HospitalSettings Defaults { get; } = defaults;

    public HospitalSettings Settings => Volatile.Read(ref _settings);

    public void ReplaceSettings(HospitalSettings settings) => Volatile.Write(ref _settings, settings);

    private long _refreshRequests;
    private long _revocationRequests;

    /// <summary>refresh_token grants asked of the token endpoint (read-only test hook: GET /hospitals/{id}/stats).</summary>
    public long RefreshRequests => Interlocked.Read(ref _refreshRequests);
    public long RevocationRequests => Interlocked.Read(ref _revocationRequests);
    public void CountRefreshRequest() => Interlocked.Increment(ref _refreshRequests);
    public void CountRevocationRequest() => Interlocked.Increment(ref _revocationRequests);

    // FHIR requests per wall-clock second (unix seconds), the last hour: what a rate limit looks like from here.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, long> _perSecond = new();

    /// <summary>Counts FHIR requests for the rate-limit knob and the per-second stats.</summary>
    public long NextRequestNumber()
    {
        var second = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        _perSecond.AddOrUpdate(second, 1, (_, n) => n + 1);
        if (_perSecond.Count > 3600)
        {
            foreach (var old in _perSecond.Keys.Where(k => k < second - 3600)) _perSecond.TryRemove(old, out _);
        }
        return Interlocked.Increment(ref _requestCount);
    }

    public long FhirRequests => Interlocked.Read(ref _requestCount);

    /// <summary>FHIR requests by unix second, oldest first (the last hour).</summary>
    public SortedDictionary<string, long> FhirRequestsBySecond() =>
        new(_perSecond.ToDictionary(p => p.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), p => p.Value), StringComparer.Ordinal);

    public bool UsesV2Scopes => info.VendorProfile == "cerner";
    public bool RotatesRefreshTokens => info.VendorProfile == "cerner";

    /// <summary>The FHIR base as the client sees it, e.g. http://127.0.0.1:8090/hospitals/riverside/fhir.</summary>
    public string FhirBase(HttpRequest request) =>
        $"{request.Scheme}://{request.Host}{request.PathBase}/hospitals/{info.Id}/fhir";

    /// <summary>Where this hospital's authorization server lives: {AuthBase}/authorize, /token, /revoke, /jwks.</summary>
    public string AuthBase(HttpRequest request) =>
        $"{request.Scheme}://{request.Host}{request.PathBase}/hospitals/{info.Id}/auth";
}

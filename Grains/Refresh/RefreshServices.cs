using Microsoft.Extensions.Options;
using PatientConnect.Grains.Security;
using PatientConnect.Grains.Smart;
using PatientConnect.Grains.Sources;

namespace PatientConnect.Grains.Refresh;

/// <summary>The silo-wide services every connection's <see cref="TokenRefresh"/> uses, resolved once.</summary>
public sealed class RefreshServices(
    TokenProtector protector,
    SourceCatalog catalog,
    SmartClient smart,
    IRefreshSchedule schedule,
    IOptions<RefreshOptions> options,
    TimeProvider timeProvider)
{
    public TokenProtector Protector => protector;
    public SourceCatalog Catalog => catalog;
    public SmartClient Smart => smart;
    public IRefreshSchedule Schedule => schedule;
    public RefreshOptions Options => options.Value;
    public TimeProvider Clock => timeProvider;
}

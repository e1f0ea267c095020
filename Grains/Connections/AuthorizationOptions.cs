namespace PatientConnect.Grains.Connections;

/// <summary>
/// <c>PatientConnect:Authorization</c>: how long a patient's authorization lasts where the source caps it,
/// and how early the app hears that it is ending (the <c>connection.expiring</c> event).
/// </summary>
public sealed class AuthorizationOptions
{
    public const string SectionName = "PatientConnect:Authorization";

    /// <summary>How long before authorization_expires_at the connection.expiring event fires.</summary>
    public TimeSpan WarnBefore { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Per vendor (<c>epic</c>, <c>cerner</c>, …), the longest an authorization lasts from the patient's
    /// consent, for vendors whose limit is a fixed window rather than a refresh-token expiry they announce.
    /// </summary>
    public Dictionary<string, TimeSpan> VendorMaximum { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

using System.Buffers;

namespace PatientConnect.Sessions;

/// <summary>
/// The domain rules of a patient session's fields, in one place: the Api checks a body with them (to
/// answer 400 naming every bad field at once) and the session grain checks every create with the same
/// ones (so a caller that skips the Api gets the same answer). Here, beside the request records, because
/// both the Api and the grains see this assembly and the Api may not reference the grains.
/// </summary>
public static class SessionRules
{
    public const int DefaultExpiresInSeconds = 1800;
    public const int MinExpiresInSeconds = 60;
    public const int MaxExpiresInSeconds = 86400;
    public const int MaxRecommendedSources = 20;
    public const int MaxMetadataBytes = 4096;
    public const int MaxUrlLength = 2048;

    public static readonly TimeSpan MinExpiresIn = TimeSpan.FromSeconds(MinExpiresInSeconds);
    public static readonly TimeSpan MaxExpiresIn = TimeSpan.FromSeconds(MaxExpiresInSeconds);

    public static bool IsAllowedExpiresIn(TimeSpan expiresIn) => expiresIn >= MinExpiresIn && expiresIn <= MaxExpiresIn;

    /// <summary>
    /// Where a patient may be sent back (a return_url; webhook URLs follow the same rule): absolute
    /// https, or plain http to 127.0.0.1, localhost or [::1] when the operator allows loopback http.
    /// Null when acceptable, otherwise why not (a sentence fragment after the field name).
    /// </summary>
    public static string? CheckReturnUrl(string? text, bool allowLoopbackHttp)
    {
        if (string.IsNullOrEmpty(text)) return "must be an absolute https URL.";
        if (text.Length > MaxUrlLength) return $"must be at most {MaxUrlLength} characters.";
        // A NUL or line break is never part of a real address, and Postgres refuses NUL outright.
        if (text.AsSpan().ContainsAny(ControlCharacters)) return "must not contain control characters.";
        // The literal prefix as well as the parsed scheme: Uri accepts forms such as "https:/x" or a
        // Windows path that a browser would not treat as this address.
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host)
            || !(text.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("http://", StringComparison.OrdinalIgnoreCase)))
        {
            return "must be an absolute https URL.";
        }
        // Credentials in a redirect target are a phishing tool, never a legitimate return address.
        if (!string.IsNullOrEmpty(uri.UserInfo)) return "must not contain a user name or password.";
        if (uri.Scheme == Uri.UriSchemeHttps) return null;
        if (uri.Scheme == Uri.UriSchemeHttp && IsLoopbackName(uri))
        {
            return allowLoopbackHttp ? null : "must use https (plain http on loopback hosts is disabled here).";
        }
        return allowLoopbackHttp
            ? "must be an absolute https URL (plain http only for 127.0.0.1, localhost or [::1])."
            : "must be an absolute https URL.";
    }

    private static readonly SearchValues<char> ControlCharacters = SearchValues.Create(
        Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7F, 0x21)).Select(c => (char)c).ToArray());

    // Names, not resolution: "127.0.0.2" or a name that resolves to loopback is not what the rule allows.
    private static bool IsLoopbackName(Uri uri) =>
        uri.Host.Equals("127.0.0.1", StringComparison.Ordinal)
        || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || uri.Host.Equals("[::1]", StringComparison.Ordinal);
}

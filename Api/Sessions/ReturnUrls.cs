namespace PatientConnect.Api.Sessions;

/// <summary>Where a patient may be sent back: absolute https, or http on loopback when the operator allows it.</summary>
public static class ReturnUrls
{
    /// <summary>Null when acceptable, otherwise why not.</summary>
    public static string? Check(string text, bool allowLoopbackHttp)
    {
        if (text.Length > CreateSessionBody.MaxUrlLength) return $"must be at most {CreateSessionBody.MaxUrlLength} characters.";
        // A NUL or line break is never part of a real address, and Postgres refuses NUL outright.
        if (text.AsSpan().ContainsAny(ControlCharacters)) return "must not contain control characters.";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host)
            || !(text.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("http://", StringComparison.OrdinalIgnoreCase)))
        {
            return "must be an absolute https URL.";
        }
        // Credentials in a redirect target are a phishing tool, never a legitimate return address.
        if (!string.IsNullOrEmpty(uri.UserInfo)) return "must not contain a user name or password.";
        if (uri.Scheme == Uri.UriSchemeHttps) return null;
        if (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri))
        {
            return allowLoopbackHttp ? null : "must use https (plain http on loopback hosts is disabled here).";
        }
        return allowLoopbackHttp
            ? "must be an absolute https URL (plain http only for 127.0.0.1, localhost or [::1])."
            : "must be an absolute https URL.";
    }

    private static readonly System.Buffers.SearchValues<char> ControlCharacters = System.Buffers.SearchValues.Create(
        Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7F, 0x21)).Select(c => (char)c).ToArray());

    private static bool IsLoopback(Uri uri) =>
        uri.Host.Equals("127.0.0.1", StringComparison.Ordinal)
        || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || uri.Host.Equals("[::1]", StringComparison.Ordinal);
}

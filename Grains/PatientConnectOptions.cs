namespace PatientConnect.Grains;

/// <summary>The <c>PatientConnect</c> configuration section as the grains need it.</summary>
public sealed class PatientConnectOptions
{
    public const string SectionName = "PatientConnect";

    /// <summary>Where the Api is reachable: session links and the OAuth redirect_uri are built on it.</summary>
    public string PublicBaseUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Base64 of 32 bytes: the AES-256-GCM key for tokens at rest.</summary>
    public string? TokenEncryptionKey { get; set; }

    /// <summary>
    /// A ring of token encryption keys with ids, oldest first: the last encrypts, all decrypt.
    /// <see cref="TokenEncryptionKey"/>, when set too, is the oldest (id "0").
    /// </summary>
    public List<TokenKey> TokenEncryptionKeys { get; set; } = [];

    public bool AllowLoopbackHttp { get; set; }

    /// <summary>The base without a trailing slash, so "{base}/connect/{id}" never doubles it.</summary>
    public string BaseUrl => PublicBaseUrl.TrimEnd('/');

    public string SessionUrl(string sessionId) => $"{BaseUrl}/connect/{sessionId}";

    public string RedirectUri => $"{BaseUrl}/oauth/callback";
}

/// <summary>One configured token encryption key: <c>PatientConnect:TokenEncryptionKeys:N:Id</c> and <c>…:Key</c> (base64 of 32 bytes).</summary>
public sealed class TokenKey
{
    public string? Id { get; set; }
    public string? Key { get; set; }
}

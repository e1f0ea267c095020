namespace PatientConnect.Api.Hosting;

/// <summary>The "PatientConnect" configuration section as the Api reads it.</summary>
public sealed class ApiOptions
{
    public const string Section = "PatientConnect";

    /// <summary>Plain http return URLs are accepted for loopback hosts only, and only when this is on.</summary>
    public bool AllowLoopbackHttp { get; set; }

    public AdminCredential Admin { get; set; } = new();

    public sealed class AdminCredential
    {
        public string? Username { get; set; }
        public string? Password { get; set; }

        public bool IsConfigured => !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password);
    }
}

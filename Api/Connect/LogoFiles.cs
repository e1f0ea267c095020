using System.Text.RegularExpressions;

namespace PatientConnect.Api.Connect;

/// <summary>
/// Logos served from our own origin, so a directory entry can show one without the patient's browser
/// asking anyone else: files of <c>PatientConnect:HostedPage:LogoFolder</c> (default: the <c>logos</c>
/// folder next to the Api, from data/logos), by a plain name, as PNG, JPEG, WebP or SVG, at most
/// <see cref="MaxBytes"/> each. An SVG is served under a policy that lets it run nothing.
/// </summary>
public static partial class LogoFiles
{
    public const string RoutePattern = "/connect/assets/logos/{file}";
    public const string PathPrefix = "/connect/assets/logos/";
    public const int MaxBytes = 64 * 1024;

    public static IResult Serve(string file, IConfiguration configuration, ILoggerFactory loggers)
    {
        var match = FileName().Match(file);
        if (!match.Success) return TypedResults.NotFound();
        var folder = configuration[$"{HostedPageSettings.SectionName}:LogoFolder"];
        folder = string.IsNullOrWhiteSpace(folder) ? Path.Combine(AppContext.BaseDirectory, "logos") : Path.GetFullPath(folder);
        var path = Path.Combine(folder, file);
        var info = new FileInfo(path);
        if (!info.Exists) return TypedResults.NotFound();
        if (info.Length > MaxBytes)
        {
            loggers.CreateLogger(typeof(LogoFiles).FullName!).LogWarning(
                "Logo {File} is {Bytes} bytes, over the {Max}-byte cap: not served", file, info.Length, MaxBytes);
            return TypedResults.NotFound();
        }
        var type = match.Groups[1].Value.ToLowerInvariant() switch
        {
            "png" => "image/png",
            "jpg" or "jpeg" => "image/jpeg",
            "webp" => "image/webp",
            _ => "image/svg+xml",
        };
        return new LogoResult(File.ReadAllBytes(path), type);
    }

    private sealed class LogoResult(byte[] bytes, string contentType) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            var headers = http.Response.Headers;
            headers.CacheControl = "public, max-age=86400";
            headers.XContentTypeOptions = "nosniff";
            headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox";
            http.Response.ContentType = contentType;
            http.Response.ContentLength = bytes.Length;
            return http.Response.Body.WriteAsync(bytes).AsTask();
        }
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]{0,63}\.(png|jpe?g|webp|svg)$", RegexOptions.IgnoreCase)]
    private static partial Regex FileName();
}

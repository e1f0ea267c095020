namespace PatientConnect.Grains.Sync;

/// <summary>
/// Where a connection's access token may be sent: only under the source's FHIR base. Every URL the
/// sync follows (planned searches, next links, references, attachments) passes through here.
/// </summary>
public static class FhirUrlPolicy
{
    /// <summary>
    /// A URL the token may be sent to: relative ones are put under the FHIR base; absolute ones must
    /// already be under it (same scheme, host, port and path prefix). Anything else is null.
    /// </summary>
    /// <param name="fhirBase">The FHIR base without a trailing slash.</param>
    public static Uri? Resolve(string fhirBase, string reference)
    {
        if (!Uri.TryCreate(fhirBase + "/", UriKind.Absolute, out var baseUri)) return null;
        Uri? absolute;
        if (!reference.Contains("://", StringComparison.Ordinal))
        {
            // Relative: under the base, and still under it once ".." segments are resolved.
            if (!Uri.TryCreate($"{fhirBase}/{reference.TrimStart('/')}", UriKind.Absolute, out absolute)) return null;
        }
        else if (!Uri.TryCreate(reference, UriKind.Absolute, out absolute))
        {
            return null;
        }
        var sameOrigin = absolute.Scheme == baseUri.Scheme
                         && string.Equals(absolute.Host, baseUri.Host, StringComparison.OrdinalIgnoreCase)
                         && absolute.Port == baseUri.Port
                         && string.IsNullOrEmpty(absolute.UserInfo);
        return sameOrigin && absolute.AbsolutePath.StartsWith(baseUri.AbsolutePath, StringComparison.Ordinal) ? absolute : null;
    }

    /// <summary>"Binary/id" for a relative attachment URL or an absolute one under the FHIR base; otherwise null.</summary>
    /// <param name="fhirBase">The FHIR base without a trailing slash.</param>
    public static string? AttachmentPath(string fhirBase, string url)
    {
        var path = url;
        if (url.Contains("://", StringComparison.Ordinal))
        {
            var prefix = fhirBase + "/";
            if (!url.StartsWith(prefix, StringComparison.Ordinal)) return null;
            path = url[prefix.Length..];
        }
        var parts = path.Split('/');
        return parts.Length == 2 && parts[0] == "Binary" && FhirPage.IsFhirId(parts[1]) ? path : null;
    }
}

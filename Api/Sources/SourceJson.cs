using PatientConnect.Sources;

namespace PatientConnect.Api.Sources;

/// <summary>
/// A directory entry as CONTRACT.md lists it, plus whether it can be connected today and, in search
/// results, which other name of the source the query matched (<c>matched_name</c>, else null), and
/// the patient portal's own name when known (<c>portal_name</c>).
/// </summary>
public sealed record SourceJson(
    string Id,
    string Name,
    string Vendor,
    string FhirBaseUrl,
    string? City,
    string? State,
    string? Zip,
    string? LogoUrl,
    string? PortalUrl,
    bool Connectable,
    string? MatchedName,
    string? PortalName)
{
    /// <param name="publicBaseUrl">Where the Api is reachable: a logo served from our own origin
    /// (<c>/connect/assets/logos/…</c>) is given to apps as an absolute URL.</param>
    public static SourceJson From(SourceView view, string? publicBaseUrl = null) => new(
        view.Id, view.Name, view.Vendor, view.FhirBaseUrl, view.City, view.State, view.Zip,
        view.LogoUrl is ['/', not '/', ..] && publicBaseUrl is not null ? publicBaseUrl.TrimEnd('/') + view.LogoUrl : view.LogoUrl,
        view.PortalUrl, view.Connectable, view.MatchedName, view.PortalName);
}

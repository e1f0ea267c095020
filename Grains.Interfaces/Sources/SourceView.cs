namespace PatientConnect.Sources;

/// <summary>A hospital or insurer in the directory, as GET /v1/sources returns it.</summary>
[GenerateSerializer, Immutable, Alias("pc.SourceView")]
public sealed record SourceView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] string Vendor,
    [property: Id(3)] string FhirBaseUrl,
    [property: Id(4)] string? City,
    [property: Id(5)] string? State,
    [property: Id(6)] string? Zip,
    [property: Id(7)] string? LogoUrl,
    [property: Id(8)] string? PortalUrl,
    /// <summary>False when no client registration exists for it: listed, but refused when chosen.</summary>
    [property: Id(9)] bool Connectable,
    /// <summary>In search results: the other name of this source that the query matched (a practice on a
    /// shared endpoint, a former name), when it was not <see cref="Name"/>.</summary>
    [property: Id(10)] string? MatchedName = null,
    /// <summary>The patient portal's own name ("MyChart"), when a Brands bundle or the operator gives it.</summary>
    [property: Id(11)] string? PortalName = null);

namespace PatientConnect.Common;

/// <summary>One page of a list: the items and the opaque cursor of the next page, null on the last.</summary>
[GenerateSerializer, Immutable, Alias("pc.Page`1")]
public sealed record Page<T>(
    [property: Id(0)] IReadOnlyList<T> Data,
    [property: Id(1)] string? NextCursor);

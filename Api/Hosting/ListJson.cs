namespace PatientConnect.Api.Hosting;

/// <summary>Every list: <c>{"data": [...], "next_cursor": "..." | null}</c>.</summary>
public sealed record ListJson<T>(IReadOnlyList<T> Data, string? NextCursor);

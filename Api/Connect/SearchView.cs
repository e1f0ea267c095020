using PatientConnect.Sources;

namespace PatientConnect.Api.Connect;

/// <summary>What the search page shows, besides the search box: the lists, each under its heading.</summary>
public sealed record SearchView(
    string? Query,
    IReadOnlyList<SourceView> Recommended,
    IReadOnlyList<SourceView> Near,
    IReadOnlyList<SourceView> Results,
    string? NextCursor,
    /// <summary>Nothing typed and no short list of connectable sources: the page asks the patient to type instead of listing the directory.</summary>
    bool Prompt);

using PatientConnect.Connections;
using PatientConnect.Sync;

namespace PatientConnect.Grains.Sync;

[GenerateSerializer, Alias("pc.SyncStepKind")]
public enum SyncStepKind { Search, Read, Binary }

/// <summary>One unit of work still to do: a search (and where its paging stands), a read, or an attachment.</summary>
[GenerateSerializer, Alias("pc.SyncStep")]
public sealed class SyncStep
{
    [Id(0)] public SyncStepKind Kind { get; set; }
    [Id(1)] public string ResourceType { get; set; } = "";
    /// <summary>Relative to the FHIR base ("Observation?patient=…"), or the absolute next link once paging has begun.</summary>
    [Id(2)] public string Url { get; set; } = "";
    [Id(3)] public int PagesDone { get; set; }
    /// <summary>Binary: the attachment's media type, sent as Accept.</summary>
    [Id(4)] public string? ContentType { get; set; }
    [Id(5)] public DateTimeOffset? OwnerLastUpdated { get; set; }
    /// <summary>An Observation search without category: a 400 turns it into one search per category.</summary>
    [Id(6)] public bool ExpandByCategoryOn400 { get; set; }
}

/// <summary>
/// The sync of one connection. The grain state holds it as of the run's start and end; in between it
/// travels as JSON in pc_sync_checkpoints, in the transaction of every stored page: the steps still to do (each
/// search with its current next link), the references still to read, and the tallies. A silo crash
/// loses at most the pages in flight; the resumed run starts from here.
/// </summary>
[GenerateSerializer, Alias("pc.SyncState")]
public sealed class SyncState
{
    [Id(0)] public SyncStatus Status { get; set; } = SyncStatus.Pending;
    [Id(1)] public string? RunId { get; set; }
    [Id(2)] public SyncMode Mode { get; set; }
    [Id(3)] public DateTimeOffset? StartedAt { get; set; }
    [Id(4)] public DateTimeOffset? CompletedAt { get; set; }
    [Id(5)] public string? Error { get; set; }
    /// <summary>
    /// Per searched resource type, the start of the last completed run that fetched it whole: an
    /// incremental run searches that type from there (_lastUpdated). A type something was missed of
    /// (a refused search, a next link not followed) has none, so the next run fetches it whole again.
    /// </summary>
    [Id(25)] public Dictionary<string, DateTimeOffset> FetchedWholeSince { get; set; } = new(StringComparer.Ordinal);
    [Id(8)] public bool Planned { get; set; }
    [Id(9)] public List<SyncStep> Steps { get; set; } = [];
    /// <summary>"Type/id" of referenced resources already fetched or queued in this run.</summary>
    [Id(10)] public HashSet<string> KnownReferences { get; set; } = new(StringComparer.Ordinal);
    /// <summary>"Type/id" found but not yet turned into read steps (done once the searches are finished).</summary>
    [Id(11)] public List<string> PendingReferences { get; set; } = [];
    /// <summary>Resources received in this run, per type (a resource seen twice counts twice).</summary>
    [Id(12)] public Dictionary<string, long> Fetched { get; set; } = new(StringComparer.Ordinal);
    [Id(13)] public long ResourcesFetched { get; set; }
    [Id(14)] public int PagesFetched { get; set; }
    /// <summary>How many times this run's loop started: 1 normally, more after a crash or a move.</summary>
    [Id(15)] public int LoopStarts { get; set; }
    /// <summary>PagesFetched at each resume, the evidence that a resumed run went on rather than over.</summary>
    [Id(16)] public List<int> PagesAtResume { get; set; } = [];
    [Id(17)] public List<string> Notes { get; set; } = [];
    /// <summary>Stored records of the connection per type, taken when the run ends.</summary>
    [Id(18)] public Dictionary<string, long>? Counts { get; set; }
    [Id(19)] public int Requests { get; set; }
    /// <summary>Whose records these are, from the first access lease (pc_records is keyed by tenant).</summary>
    [Id(20)] public string? TenantId { get; set; }
    [Id(21)] public string? PatientId { get; set; }
    /// <summary>The last checkpoint of this run (pc_sync_checkpoints.sequence): a stored one is newer only when higher.</summary>
    [Id(22)] public long CheckpointSequence { get; set; }
    /// <summary>The resource types this run searches (from its plan).</summary>
    [Id(23)] public List<string> PlannedTypes { get; set; } = [];
    /// <summary>
    /// Types of which this run missed something; "*" when a referenced resource or an attachment was
    /// refused (the pages that pointed at it are not known by type, so every type is fetched whole next time).
    /// </summary>
    [Id(24)] public HashSet<string> IncompleteTypes { get; set; } = new(StringComparer.Ordinal);
}

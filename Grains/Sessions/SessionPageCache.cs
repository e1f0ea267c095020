using PatientConnect.Sessions;

namespace PatientConnect.Grains.Sessions;

/// <summary>
/// The pages a <see cref="SessionPageCacheGrain"/> keeps, per (tenant, patient) and per query. Not thread-safe:
/// one activation's turns use it, one at a time.
/// <para>
/// A page is served while the clock is within [the moment it was read, its end), its end being the earlier
/// of "read + time to live" and the moment an open session on it reaches expires_at
/// (<see cref="SessionPages.ReadJsonAsync"/>). A writer's <see cref="Invalidate"/> drops the patient's pages
/// and bumps its generation; a read of the rows registers itself first (<see cref="BeginRead"/>) and its page is
/// kept only when no invalidation came in between (<see cref="EndRead"/>), so a read that may have seen the
/// rows before a commit never stores its page after that commit's invalidation. A patient's entry (and so
/// its generation) lives while it has pages or reads in flight; without either there is nothing an
/// invalidation could need to stop.
/// </para>
/// </summary>
public sealed class SessionPageCache(int pagesPerPatient, long maxBytes, TimeSpan timeToLive)
{
    public readonly record struct PageKey(SessionStatus? Status, int Limit, string? Cursor);

    public readonly record struct PatientKey(string TenantId, string PatientId);

    /// <summary>A read of the rows in flight: its patient and the generation it began in.</summary>
    public readonly record struct Read(PatientKey Patient, long Generation);

    private sealed class Patient
    {
        public long Generation;
        public int Reads;
        public readonly Dictionary<PageKey, Entry> Pages = [];
    }

    private sealed class Entry(PatientKey patient, PageKey key, SessionPageJson page, DateTimeOffset readAt, DateTimeOffset until)
    {
        public PatientKey Patient { get; } = patient;
        public PageKey Key { get; } = key;
        public SessionPageJson Page { get; } = page;
        public DateTimeOffset ReadAt { get; } = readAt;
        public DateTimeOffset Until { get; } = until;
        public LinkedListNode<Entry>? Node { get; set; }
    }

    private readonly Dictionary<PatientKey, Patient> patients = [];
    private readonly LinkedList<Entry> oldestFirst = [];

    /// <summary>Pages kept, over all patients.</summary>
    public int Count => oldestFirst.Count;

    /// <summary>The kept pages' JSON bytes, at most the bound given.</summary>
    public long Bytes { get; private set; }

    /// <summary>Patients with pages or reads in flight.</summary>
    public int Patients => patients.Count;

    public bool TryGet(PatientKey patient, PageKey key, DateTimeOffset now, out SessionPageJson page)
    {
        if (patients.TryGetValue(patient, out var p) && p.Pages.TryGetValue(key, out var entry))
        {
            // Before ReadAt only if the clock went back: not trusted either.
            if (now >= entry.ReadAt && now < entry.Until)
            {
                page = entry.Page;
                return true;
            }
            Remove(p, entry);
            Forget(patient, p);
        }
        page = null!;
        return false;
    }

    /// <summary>Call before reading the rows, and <see cref="EndRead"/> after (also when the read failed).</summary>
    public Read BeginRead(PatientKey patient)
    {
        if (!patients.TryGetValue(patient, out var p)) patients[patient] = p = new Patient();
        p.Reads++;
        return new Read(patient, p.Generation);
    }

    /// <summary>
    /// Ends <paramref name="read"/>; keeps <paramref name="page"/> (null: the read failed), read at
    /// <paramref name="readAt"/>, unless the patient was invalidated since the read began, or the page
    /// would not be served at all.
    /// </summary>
    /// <returns>Whether the page was kept.</returns>
    public bool EndRead(Read read, PageKey key, SessionPageJson? page, DateTimeOffset readAt, DateTimeOffset? clockChangesAt)
    {
        var p = patients[read.Patient];
        p.Reads--;
        var until = readAt + timeToLive;
        if (clockChangesAt < until) until = clockChangesAt.Value;
        var kept = page is not null && p.Generation == read.Generation && until > readAt && page.Utf8.Length <= maxBytes;
        if (kept)
        {
            if (p.Pages.TryGetValue(key, out var old)) Remove(p, old);
            if (p.Pages.Count >= pagesPerPatient) Remove(p, p.Pages.Values.MinBy(e => e.ReadAt)!);
            var entry = new Entry(read.Patient, key, page!, readAt, until);
            entry.Node = oldestFirst.AddLast(entry);
            p.Pages[key] = entry;
            Bytes += page!.Utf8.Length;
            while (Bytes > maxBytes)
            {
                var oldest = oldestFirst.First!.Value;
                var owner = patients[oldest.Patient];
                Remove(owner, oldest);
                Forget(oldest.Patient, owner);
            }
        }
        Forget(read.Patient, p);
        return kept;
    }

    /// <summary>Drops the patient's pages; reads of it in flight keep nothing.</summary>
    public void Invalidate(PatientKey patient)
    {
        if (patients.TryGetValue(patient, out var p)) Invalidate(patient, p);
    }

    /// <summary>Drops every page; reads in flight keep nothing.</summary>
    public void InvalidateAll()
    {
        foreach (var (key, p) in patients.ToList()) Invalidate(key, p);
    }

    private void Invalidate(PatientKey key, Patient p)
    {
        p.Generation++;
        foreach (var entry in p.Pages.Values.ToList()) Remove(p, entry);
        Forget(key, p);
    }

    private void Remove(Patient p, Entry entry)
    {
        p.Pages.Remove(entry.Key);
        oldestFirst.Remove(entry.Node!);
        Bytes -= entry.Page.Utf8.Length;
    }

    // No pages and no read in flight: nothing of the patient left to protect.
    private void Forget(PatientKey key, Patient p)
    {
        if (p.Pages.Count == 0 && p.Reads == 0) patients.Remove(key);
    }
}

using PatientConnect.Sources;

namespace PatientConnect.Grains.Sources;

/// <summary>
/// The in-memory search over the listed sources, built once per silo and read concurrently without
/// locks (it never changes after construction). Every name and alias of a source is a document; a
/// query's words must each match a word of one document (or of the source's city and state), exactly,
/// as a prefix (search as you type) or within a small edit distance (typos). A source ranks by its
/// best document. Matches come in two strengths: every word found in a name as typed (exact or as
/// the start of a word), or anything weaker (a typo, a word found only in the place). Within a
/// strength, sources a patient can connect come first, then the better score, then name and id, so
/// the order is total and the same on every silo, which is what lets a cursor name just the last id
/// of a page.
/// </summary>
public sealed class SourceIndex
{
    public const int MaxQueryWords = 8;
    private const int MaxWordLength = 40;

    private const float Exact = 1f;
    private const float PlaceFactor = 0.7f;

    private readonly SourceEntry[] _sources;          // listed sources, browse order (name, id)
    private readonly Dictionary<string, int> _position; // id → index in _sources
    private readonly int[] _docSource;                 // document → source
    private readonly bool[] _docIsAlias;
    private readonly bool[] _docShowsMatch;            // a match on it is worth telling the patient
    private readonly string[] _docName;
    private readonly int[][] _docWords;                // document → word ids of its name, in order
    private readonly Dictionary<string, int> _wordIds;
    private readonly string[] _words;                  // word id → word
    private readonly string[] _sortedWords;            // for prefix ranges
    private readonly int[] _sortedWordIds;
    private readonly int[][] _postings;                // word id → documents (×2, +1 when only the place matched)
    private readonly long[] _deletions;                // (hash of a word with one letter left out) << 32 | word id, sorted

    [ThreadStatic] private static Scratch? t_scratch;

    public SourceIndex(IReadOnlyList<SourceEntry> listed)
    {
        _sources = listed.ToArray();
        _position = new Dictionary<string, int>(_sources.Length, StringComparer.Ordinal);
        for (var i = 0; i < _sources.Length; i++) _position[_sources[i].Id] = i;

        _wordIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var words = new List<string>();
        var postings = new List<List<int>>();
        var docSource = new List<int>();
        var docIsAlias = new List<bool>();
        var docShowsMatch = new List<bool>();
        var docName = new List<string>();
        var docWords = new List<int[]>();

        int WordId(string word)
        {
            if (word.Length > MaxWordLength) word = word[..MaxWordLength];
            if (_wordIds.TryGetValue(word, out var id)) return id;
            id = words.Count;
            _wordIds[word] = id;
            words.Add(word);
            postings.Add([]);
            return id;
        }

        for (var s = 0; s < _sources.Length; s++)
        {
            var entry = _sources[s];
            var place = SearchText.Words($"{entry.View.City} {entry.View.State}").Select(WordId).Distinct().ToArray();
            var names = new List<string> { entry.View.Name };
            // The portal's name ("MyChart") finds the source; the page shows it anyway.
            var portalAt = -1;
            if (!string.IsNullOrWhiteSpace(entry.View.PortalName))
            {
                portalAt = names.Count;
                names.Add(entry.View.PortalName);
            }
            names.AddRange(entry.Aliases);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var n = 0; n < names.Count; n++)
            {
                var ids = SearchText.Words(names[n]).Select(WordId).ToArray();
                if (ids.Length == 0 || !seen.Add(string.Join(' ', ids))) continue;
                var doc = docSource.Count;
                // An alias is shown in its readable form; one that reads as the name itself says nothing new.
                var shown = n == 0 ? names[n] : Import.DisplayNames.Clean(names[n]) ?? names[n];
                docSource.Add(s);
                docIsAlias.Add(n > 0);
                docShowsMatch.Add(n > 0 && n != portalAt && !string.Equals(shown, entry.View.Name, StringComparison.OrdinalIgnoreCase));
                docName.Add(shown);
                docWords.Add(ids);
                foreach (var id in ids.Distinct()) postings[id].Add(doc * 2);
                foreach (var id in place)
                {
                    if (!ids.Contains(id)) postings[id].Add(doc * 2 + 1);
                }
            }
        }

        _words = words.ToArray();
        _postings = postings.Select(p => p.ToArray()).ToArray();
        _docSource = docSource.ToArray();
        _docIsAlias = docIsAlias.ToArray();
        _docShowsMatch = docShowsMatch.ToArray();
        _docName = docName.ToArray();
        _docWords = docWords.ToArray();
        _sortedWordIds = Enumerable.Range(0, _words.Length).OrderBy(i => _words[i], StringComparer.Ordinal).ToArray();
        _sortedWords = _sortedWordIds.Select(i => _words[i]).ToArray();
        // Symmetric deletion (as in SymSpell): two words within one edit share a key made by leaving
        // one letter out of each (or of one). Hash collisions only add candidates; Distance() decides.
        var deletions = new List<long>();
        for (var id = 0; id < _words.Length; id++)
        {
            var word = _words[id];
            if (word.Length < MinTypoLength - 1) continue;
            deletions.Add(Key(word, id));
            for (var i = 0; i < word.Length; i++) deletions.Add(Key(string.Concat(word.AsSpan(0, i), word.AsSpan(i + 1)), id));
        }
        _deletions = deletions.Distinct().Order().ToArray();
    }

    public int Count => _sources.Length;

    public int DocumentCount => _docSource.Length;

    /// <summary>One page of matches, best first; <paramref name="afterId"/> is the last id of the previous page.</summary>
    public (IReadOnlyList<SourceView> Items, bool More) Search(SourceQuery query, int limit, string? afterId)
    {
        var filter = Filter.From(query, out var textWords);
        return textWords.Count == 0 ? Browse(filter, limit, afterId) : Ranked(textWords, filter, limit, afterId);
    }

    private (IReadOnlyList<SourceView>, bool) Browse(Filter filter, int limit, string? afterId)
    {
        var start = 0;
        if (afterId is not null)
        {
            if (!_position.TryGetValue(afterId, out var at)) throw BadCursor();
            start = at + 1;
        }
        var page = new List<SourceView>(limit);
        for (var i = start; i < _sources.Length; i++)
        {
            if (!filter.Accepts(_sources[i].View)) continue;
            if (page.Count == limit) return (page, true);
            page.Add(_sources[i].View);
        }
        return (page, false);
    }

    private readonly record struct Hit(int Source, int Doc, float Score, bool Strong);

    private (IReadOnlyList<SourceView>, bool) Ranked(List<string> queryWords, Filter filter, int limit, string? afterId)
    {
        var scratch = t_scratch ??= new Scratch();
        scratch.Ensure(_docSource.Length, _sources.Length);
        var candidates = queryWords.Select(w => new CandidateSet(Candidates(w))).ToList();
        var hits = new Dictionary<int, Hit>();
        var full = (1 << candidates.Count) - 1;
        try
        {
            Match(candidates, scratch);
            foreach (var doc in scratch.Full)
            {
                var source = _docSource[doc];
                if (!filter.Accepts(_sources[source].View)) continue;
                var score = scratch.Score[doc] + Bonus(doc, candidates);
                var hit = new Hit(source, doc, score, scratch.StrongMask[doc] == full);
                if (!hits.TryGetValue(source, out var best) || Better(hit, best))
                {
                    hits[source] = hit;
                }
            }
        }
        finally
        {
            scratch.Reset();
        }

        var comparer = Comparer<Hit>.Create(Compare);
        Hit? after = null;
        if (afterId is not null)
        {
            if (!_position.TryGetValue(afterId, out var at) || !hits.TryGetValue(at, out var last)) throw BadCursor();
            after = last;
        }

        // Keep the best limit + 1 after the cursor: the extra one only says whether a next page exists.
        var keep = new PriorityQueue<Hit, Hit>(Comparer<Hit>.Create((a, b) => Compare(b, a)));
        foreach (var hit in hits.Values)
        {
            if (after is { } a && Compare(hit, a) <= 0) continue;
            keep.Enqueue(hit, hit);
            if (keep.Count > limit + 1) keep.Dequeue();
        }
        var ordered = new List<Hit>(keep.Count);
        while (keep.Count > 0) ordered.Add(keep.Dequeue());
        ordered.Sort(comparer);
        var more = ordered.Count > limit;
        var page = ordered.Take(limit).Select(h =>
        {
            var view = _sources[h.Source].View;
            return _docShowsMatch[h.Doc] ? view with { MatchedName = _docName[h.Doc] } : view;
        }).ToList();
        return (page, more);
    }

    // A source's best document: the stronger match, then the higher score, then the first.
    private static bool Better(Hit a, Hit b) =>
        a.Strong != b.Strong ? a.Strong : a.Score != b.Score ? a.Score > b.Score : a.Doc < b.Doc;

    // Better first: strength, then connectable, then score, then the browse order (name, id).
    private int Compare(Hit a, Hit b)
    {
        var byStrength = b.Strong.CompareTo(a.Strong);
        if (byStrength != 0) return byStrength;
        var byConnectable = _sources[b.Source].Connectable.CompareTo(_sources[a.Source].Connectable);
        if (byConnectable != 0) return byConnectable;
        var byScore = b.Score.CompareTo(a.Score);
        return byScore != 0 ? byScore : a.Source.CompareTo(b.Source);
    }

    /// <summary>An indexed word a query word stands for; <paramref name="Strong"/> when it is the word as typed or its start.</summary>
    private sealed record Candidate(int Word, float Quality, bool Strong = true);

    /// <summary>One query word's candidates, by word id, for the phrase bonus.</summary>
    private sealed class CandidateSet(List<Candidate> list)
    {
        public List<Candidate> List { get; } = list;
        private readonly Dictionary<int, float> _byWord = list.GroupBy(c => c.Word).ToDictionary(g => g.Key, g => g.Max(c => c.Quality));

        public float QualityOf(int word) => _byWord.GetValueOrDefault(word);
    }

    /// <summary>The indexed words one query word stands for, each with how well it matches.</summary>
    private List<Candidate> Candidates(string word)
    {
        var found = new List<Candidate>();
        var exact = _wordIds.TryGetValue(word, out var exactId);
        if (exact) found.Add(new Candidate(exactId, Exact));

        // Prefix: the word being typed. A longer typed part is a surer match.
        var lo = LowerBound(word);
        for (var i = lo; i < _sortedWords.Length && _sortedWords[i].StartsWith(word, StringComparison.Ordinal); i++)
        {
            if (_sortedWords[i].Length == word.Length) continue;
            found.Add(new Candidate(_sortedWordIds[i], 0.6f + 0.3f * word.Length / _sortedWords[i].Length));
        }

        // Typos, only for a word the index does not know: one edit up to 7 letters, two from 8.
        // Only the closest tier counts: "stanferd" is one edit from "stanford" and two from "sanford".
        // Candidates come from the deletion keys: every word within one edit, and the two-edit words
        // that share a one-letter-out key (a letter added and one dropped, two neighbours swapped…).
        if (!exact && word.Length >= MinTypoLength)
        {
            var max = word.Length >= 8 ? 2 : 1;
            var typos = new List<(int Id, int Distance)>();
            var tried = new HashSet<int>();
            foreach (var key in Keys(word))
            {
                for (var i = LowerBound(_deletions, (long)key << 32); i < _deletions.Length && (int)(_deletions[i] >> 32) == key; i++)
                {
                    var id = (int)(_deletions[i] & 0xFFFFFFFF);
                    if (!tried.Add(id)) continue;
                    var d = SearchText.Distance(word, _words[id], max);
                    if (d <= max) typos.Add((id, d));
                }
            }
            if (typos.Count > 0)
            {
                var closest = typos.Min(t => t.Distance);
                found.AddRange(typos.Where(t => t.Distance == closest).Select(t => new Candidate(t.Id, closest == 1 ? 0.6f : 0.35f, Strong: false)));
            }
        }
        return found;
    }

    private const int MinTypoLength = 4;

    private static long Key(string variant, int id) => ((long)Hash(variant) << 32) | (uint)id;

    // Stable within the process is all that matters: keys are built and looked up by the same code.
    private static int Hash(string text) => string.GetHashCode(text, StringComparison.Ordinal);

    private static IEnumerable<int> Keys(string word)
    {
        yield return Hash(word);
        for (var i = 0; i < word.Length; i++) yield return Hash(string.Concat(word.AsSpan(0, i), word.AsSpan(i + 1)));
    }

    private static int LowerBound(long[] sorted, long value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    private int LowerBound(string word)
    {
        int lo = 0, hi = _sortedWords.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (string.CompareOrdinal(_sortedWords[mid], word) < 0) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>Documents matching every query word, with the sum of each word's best match.</summary>
    private void Match(List<CandidateSet> candidates, Scratch s)
    {
        for (var q = 0; q < candidates.Count; q++)
        {
            s.Stamp++;
            s.Current.Clear();
            foreach (var candidate in candidates[q].List)
            {
                foreach (var posting in _postings[candidate.Word])
                {
                    var doc = posting >> 1;
                    if (q > 0 && s.Mask[doc] != (1 << q) - 1) continue;
                    var inPlace = (posting & 1) == 1;
                    var quality = inPlace ? candidate.Quality * PlaceFactor : candidate.Quality;
                    var strong = candidate.Strong && !inPlace;
                    if (s.CurrentStamp[doc] != s.Stamp)
                    {
                        s.CurrentStamp[doc] = s.Stamp;
                        s.CurrentBest[doc] = quality;
                        s.CurrentStrong[doc] = strong;
                        s.Current.Add(doc);
                    }
                    else
                    {
                        if (quality > s.CurrentBest[doc]) s.CurrentBest[doc] = quality;
                        s.CurrentStrong[doc] |= strong;
                    }
                }
            }
            foreach (var doc in s.Current)
            {
                if (q == 0) s.Touched.Add(doc);
                s.Score[doc] += s.CurrentBest[doc];
                s.Mask[doc] |= 1 << q;
                if (s.CurrentStrong[doc]) s.StrongMask[doc] |= 1 << q;
            }
        }
        var full = (1 << candidates.Count) - 1;
        foreach (var doc in s.Touched)
        {
            if (s.Mask[doc] == full) s.Full.Add(doc);
        }
    }

    /// <summary>Whole-name and phrase bonuses: "mayo clinic" should beat "Mayo Clinic Health System - Franciscan".</summary>
    private float Bonus(int doc, List<CandidateSet> candidates)
    {
        var words = _docWords[doc];
        var n = candidates.Count;
        var bonus = 0f;
        // The query's words, in order, at some position of the name (each exact, prefix or typo).
        // Bonuses scale with how well the phrase matched: a typo's phrase counts for less than an exact one.
        var phraseAt = -1;
        var phraseQuality = 0f;
        for (var start = 0; start + n <= words.Length && phraseAt < 0; start++)
        {
            var worst = 1f;
            for (var q = 0; q < n && worst > 0; q++) worst = Math.Min(worst, candidates[q].QualityOf(words[start + q]));
            if (worst > 0)
            {
                phraseAt = start;
                phraseQuality = worst;
            }
        }
        if (phraseAt == 0) bonus += phraseQuality;
        else if (phraseAt > 0) bonus += 0.5f * phraseQuality;
        if (phraseAt == 0 && words.Length == n) bonus += phraseQuality;
        // Shorter names first among equals: fewer words the patient did not type.
        bonus -= Math.Min(0.5f, 0.05f * (words.Length - n));
        if (_docIsAlias[doc]) bonus -= 0.1f;
        return bonus;
    }

    private static PatientConnect.Common.InvalidFieldException BadCursor() => PatientConnect.Common.InvalidFieldException.CursorNotIssued();

    /// <summary>Per-thread buffers sized to the index, so a search allocates little.</summary>
    private sealed class Scratch
    {
        public float[] Score = [];
        public int[] Mask = [];
        public int[] StrongMask = [];
        public float[] CurrentBest = [];
        public bool[] CurrentStrong = [];
        public int[] CurrentStamp = [];
        public int Stamp;
        public readonly List<int> Current = [];
        public readonly List<int> Touched = [];
        public readonly List<int> Full = [];

        public void Ensure(int docs, int sources)
        {
            if (Score.Length >= docs) return;
            Score = new float[docs];
            Mask = new int[docs];
            StrongMask = new int[docs];
            CurrentBest = new float[docs];
            CurrentStrong = new bool[docs];
            CurrentStamp = new int[docs];
            Stamp = 0;
        }

        public void Reset()
        {
            foreach (var doc in Touched)
            {
                Score[doc] = 0;
                Mask[doc] = 0;
                StrongMask[doc] = 0;
            }
            Touched.Clear();
            Full.Clear();
            Current.Clear();
        }
    }

    /// <summary>The query's filters; a query word of 3 to 5 digits is a ZIP (prefix) too.</summary>
    private sealed record Filter(string? City, string? State, string? Vendor, string? Zip, bool ConnectableOnly)
    {
        public static Filter From(SourceQuery query, out List<string> textWords)
        {
            var zip = Blank(query.Zip);
            textWords = [];
            foreach (var word in SearchText.Words(query.Q, MaxQueryWords))
            {
                if (zip is null && word.Length is >= 3 and <= 5 && word.All(char.IsAsciiDigit)) zip = word;
                else textWords.Add(word.Length > MaxWordLength ? word[..MaxWordLength] : word);
            }
            return new Filter(Blank(query.City), Blank(query.State), Blank(query.Vendor), zip, query.ConnectableOnly);
        }

        public bool Accepts(SourceView view) =>
            (!ConnectableOnly || view.Connectable)
            && Same(City, view.City) && Same(State, view.State) && Same(Vendor, view.Vendor)
            // "53703" is the exact ZIP, "537" its three-digit area; any prefix works the same way.
            && (Zip is null || (view.Zip is not null && view.Zip.StartsWith(Zip, StringComparison.OrdinalIgnoreCase)));

        private static bool Same(string? wanted, string? actual) =>
            wanted is null || string.Equals(wanted, actual?.Trim(), StringComparison.OrdinalIgnoreCase);

        private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }
}

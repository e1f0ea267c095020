using System.Text;
using System.Text.RegularExpressions;

namespace PatientConnect.Grains.Sources.Import;

/// <summary>
/// Turns the names the public lists carry into names a patient can read: the lists are typed by
/// hand in EHR admin screens and carry their notes ("*DO NOT USE*", "***MASTER SITE***", "&lt;COC&gt;"),
/// stray quotes and commas, and whole names in capitals. The raw name always stays findable as an alias.
/// </summary>
public static partial class DisplayNames
{
    /// <summary>The readable form of a list's name, or null when nothing readable is left.</summary>
    public static string? Clean(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw)) return null;
        var text = raw.Normalize(NormalizationForm.FormC);
        // Admin notes between asterisks, and short codes in angle brackets, are for the EHR's staff
        // (unless they are all there is).
        var withoutNotes = BracketCode().Replace(StarredNote().Replace(text, " "), " ");
        if (withoutNotes.Any(char.IsLetterOrDigit)) text = withoutNotes;
        text = text.Replace("*", " ").Replace("\"", " ").Replace("\u201C", " ").Replace("\u201D", " ");
        text = DashRun().Replace(text, " - ");
        text = Spaces().Replace(text, " ").Trim();
        text = SpaceBeforePunctuation().Replace(text, "$1");
        // "(ASEM) Administración …": the leading abbreviation goes last, so the name starts with a word.
        var lead = LeadingParenthetical().Match(text);
        if (lead.Success && lead.Groups[2].Value.Any(char.IsLetter))
        {
            text = $"{lead.Groups[2].Value} ({lead.Groups[1].Value})";
        }
        text = TrimNoise(text);
        if (!text.Any(char.IsLetterOrDigit)) return null;
        if (ShoutedSafely(text)) text = ReadableCase(text);
        return text;
    }

    /// <summary>True when a name starts or ends with something other than a letter or digit (a closing
    /// bracket and an abbreviation's final period excepted).</summary>
    public static bool HasEdgeNoise(string name) =>
        name.Length == 0 || !char.IsLetterOrDigit(name[0]) || !GoodEnd(name);

    private static bool GoodEnd(string name)
    {
        var last = name[^1];
        if (char.IsLetterOrDigit(last) || last is ')' or ']') return true;
        return last == '.' && name.Length > 1 && char.IsLetter(name[^2]);
    }

    private static string TrimNoise(string text)
    {
        var start = 0;
        while (start < text.Length && !char.IsLetterOrDigit(text[start])) start++;
        var end = text.Length;
        while (end > start)
        {
            var last = text[end - 1];
            if (char.IsLetterOrDigit(last)) break;
            if (last == ')' && text.AsSpan(start, end - start).Count('(') >= text.AsSpan(start, end - start).Count(')')) break;
            if (last == ']' && text.AsSpan(start, end - start).Count('[') >= text.AsSpan(start, end - start).Count(']')) break;
            if (last == '.' && end - start > 1 && char.IsLetter(text[end - 2])) break;
            end--;
        }
        var trimmed = text[start..end];
        // An opening bracket whose closing one was cut off (or never typed) is noise too.
        if (trimmed.Count(c => c == '(') != trimmed.Count(c => c == ')')) trimmed = trimmed.Replace("(", "").Replace(")", "");
        if (trimmed.Count(c => c == '[') != trimmed.Count(c => c == ']')) trimmed = trimmed.Replace("[", "").Replace("]", "");
        return Spaces().Replace(trimmed, " ").Trim();
    }

    // Capitals are changed only when the name is mostly words: a short code ("SIMC", "PRVIR") may be the
    // organisation's real name, and guessing its case would be worse than leaving it.
    private static bool ShoutedSafely(string text)
    {
        if (text.Any(char.IsLower) || LettersWithDigits().IsMatch(text)) return false;
        var words = Words().Matches(text).Select(m => m.Value).ToList();
        return words.Count(w => w.Length >= 4 && HasVowel(w)) >= 2;
    }

    // Letters run together with digits, slashes or underscores are a code ("DEMO04", "SEGPC/WFP"): kept as typed.
    private static bool InCode(string text, Match m) =>
        (m.Index > 0 && text[m.Index - 1] is '/' or '_' || m.Index > 0 && char.IsDigit(text[m.Index - 1]))
        || (m.Index + m.Length < text.Length && (text[m.Index + m.Length] is '/' or '_' || char.IsDigit(text[m.Index + m.Length])));

    private static string ReadableCase(string text)
    {
        var index = 0;
        return Words().Replace(text, m =>
        {
            var word = m.Value;
            var first = index++ == 0;
            var upper = word.ToUpperInvariant();
            if (Acronyms.Contains(upper) || InCode(text, m)) return upper;
            if (!first && SmallWords.Contains(upper)) return word.ToLowerInvariant();
            // A word without a vowel ("MJD", "SMPCS") or of two letters ("NY", "OB") reads as an abbreviation.
            if (!Titled.Contains(upper) && (!HasVowel(word) || word.Length <= 2)) return upper;
            // One letter after an apostrophe stays small: "MARY'S" → "Mary's", "O'NEIL" → "O'Neil".
            var lower = word.ToLowerInvariant();
            var result = new StringBuilder(lower.Length);
            for (var i = 0; i < lower.Length; i++)
            {
                var startOfPart = i == 0 || (lower[i - 1] is '\'' or '\u2019' && i + 1 < lower.Length && i >= 2) || lower[i - 1] == '-';
                result.Append(startOfPart ? char.ToUpperInvariant(lower[i]) : lower[i]);
            }
            return result.ToString();
        });
    }

    private static bool HasVowel(string word) => word.Any(c => "AEIOUYaeiouyÁÉÍÓÚáéíóú".Contains(c));

    private static readonly HashSet<string> Acronyms = new(StringComparer.Ordinal)
    {
        "LLC", "PLLC", "LLP", "PC", "PA", "PS", "PSC", "SC", "MD", "DO", "OD", "DDS", "DMD", "DPM", "NP", "PT", "OT", "RN",
        "APRN", "LCSW", "PHD", "FACS", "FACP", "FAAP", "HCA", "CHI", "USA", "US", "ENT", "ICU", "EMS", "OB", "GYN", "OBGYN",
        "HMO", "PPO", "IPA", "ASC", "ACO", "FQHC", "HIV", "ABA", "UNC", "MSK", "CMS", "UCLA", "UCSF", "VA", "NYU", "AMC",
        "CSP", "AMB", "II", "III", "IV", "EHR", "FACC", "DBA", "PLC", "FAAFP", "SSM", "MHS", "UPMC", "CHOP", "UAB", "UT", "OSF", "TMC",
    };

    private static readonly HashSet<string> SmallWords = new(StringComparer.Ordinal)
    {
        "OF", "AND", "THE", "FOR", "AT", "IN", "ON", "TO", "DE", "LA", "DEL", "LOS", "LAS", "Y", "E",
    };

    private static readonly HashSet<string> Titled = new(StringComparer.Ordinal) { "ST", "DR", "MT", "FT", "LTD", "MR", "MRS", "JR", "SR", "OF", "AT", "IN", "ON", "TO", "DE", "LA", "Y", "E" };

    [GeneratedRegex(@"\*+[^*]{1,24}?\*+")]
    private static partial Regex StarredNote();

    [GeneratedRegex(@"<[^<>]{1,12}>")]
    private static partial Regex BracketCode();

    [GeneratedRegex(@"\s*-{2,}\s*")]
    private static partial Regex DashRun();

    [GeneratedRegex(@"\p{L}\d|\d\p{L}")]
    private static partial Regex LettersWithDigits();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"\s+([,;:.])")]
    private static partial Regex SpaceBeforePunctuation();

    [GeneratedRegex(@"^\(([^()]{1,24})\)\s*(.+)$")]
    private static partial Regex LeadingParenthetical();

    [GeneratedRegex(@"[\p{L}\p{M}'\u2019]+")]
    private static partial Regex Words();
}

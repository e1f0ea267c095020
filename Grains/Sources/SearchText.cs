using System.Globalization;
using System.Text;

namespace PatientConnect.Grains.Sources;

/// <summary>How names and queries are cut into words: the same rules on both sides, or nothing matches.</summary>
public static class SearchText
{
    /// <summary>
    /// Lower-case words without accents; apostrophes vanish ("Children's" → "childrens") and every
    /// other non-letter, non-digit separates ("St. Mary's–Madison" → st, marys, madison).
    /// </summary>
    public static List<string> Words(string? text, int maxWords = int.MaxValue)
    {
        var words = new List<string>();
        if (string.IsNullOrEmpty(text)) return words;
        var decomposed = text.Normalize(NormalizationForm.FormD);
        var current = new StringBuilder();
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) continue;
            if (c is '\'' or '\u2019' or '`') continue;
            if (char.IsLetterOrDigit(c))
            {
                current.Append(char.ToLowerInvariant(c));
                continue;
            }
            if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
                if (words.Count >= maxWords) return words;
            }
        }
        if (current.Length > 0) words.Add(current.ToString());
        return words;
    }

    /// <summary>
    /// Edit distance (insert, delete, substitute, swap of neighbours) between two words, or
    /// <paramref name="max"/> + 1 as soon as it is certain to exceed <paramref name="max"/>.
    /// </summary>
    public static int Distance(string a, string b, int max)
    {
        if (Math.Abs(a.Length - b.Length) > max) return max + 1;
        var n = b.Length;
        Span<int> prevPrev = stackalloc int[n + 1];
        Span<int> prev = stackalloc int[n + 1];
        Span<int> row = stackalloc int[n + 1];
        for (var j = 0; j <= n; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            row[0] = i;
            var rowMin = row[0];
            for (var j = 1; j <= n; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var v = Math.Min(Math.Min(prev[j] + 1, row[j - 1] + 1), prev[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = Math.Min(v, prevPrev[j - 2] + 1);
                row[j] = v;
                if (v < rowMin) rowMin = v;
            }
            if (rowMin > max) return max + 1;
            var spare = prevPrev;
            prevPrev = prev;
            prev = row;
            row = spare;
        }
        return prev[n];
    }
}

namespace PatientConnect.Grains.Sync;

/// <summary>What the granted SMART scopes (v1 <c>patient/X.read</c>, v2 <c>patient/X.rs</c>, wildcards) allow.</summary>
public sealed class GrantedScopes(IEnumerable<string> scopes)
{
    private readonly List<(string Type, string Permission)> _resourceScopes = scopes
        .Where(s => !s.Contains('?'))
        .Select(s => (Slash: s.IndexOf('/'), Dot: s.LastIndexOf('.'), Scope: s))
        .Where(x => x.Slash > 0 && x.Dot > x.Slash && x.Scope[..x.Slash] is "patient" or "user")
        .Select(x => (x.Scope[(x.Slash + 1)..x.Dot], x.Scope[(x.Dot + 1)..]))
        .ToList();

    public bool CanRead(string type) => Allows(type, 'r');

    public bool CanSearch(string type) => Allows(type, 's');

    private bool Allows(string type, char v2Letter)
    {
        foreach (var (scopeType, permission) in _resourceScopes)
        {
            if (scopeType != "*" && scopeType != type) continue;
            // v1: read (or *) covers read and search; v2: the letters of "cruds".
            if (permission is "read" or "*") return true;
            if (permission.Length <= 5 && permission.All(c => "cruds".Contains(c)) && permission.Contains(v2Letter)) return true;
        }
        return false;
    }
}

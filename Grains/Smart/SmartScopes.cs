namespace PatientConnect.Grains.Smart;

/// <summary>Which scopes to ask a source for, from what its discovery document says it supports.</summary>
public static class SmartScopes
{
    /// <summary>The resource types a patient-facing record pull reads (US Core plus claims data for payers).</summary>
    public static readonly IReadOnlyList<string> ResourceTypes =
    [
        "Patient", "AllergyIntolerance", "Condition", "Observation", "DiagnosticReport", "DocumentReference",
        "MedicationRequest", "Medication", "Immunization", "Procedure", "Encounter", "CarePlan", "CareTeam",
        "Goal", "Device", "Coverage", "ExplanationOfBenefit", "Practitioner", "Organization", "Binary",
    ];

    /// <summary>Launch context, identity and a refresh token: asked for on every connection.</summary>
    public static readonly IReadOnlyList<string> BaseScopes = ["launch/patient", "openid", "fhirUser", "offline_access"];

    /// <summary>
    /// The scopes to ask for: <see cref="ResourceTypes"/> as the server allows, plus each of
    /// <paramref name="extraTypes"/> (the rest of the patient compartment the operator allows) that the
    /// server lists by name in scopes_supported; a server that lists no scopes gets no extra ones.
    /// </summary>
    public static IReadOnlyList<string> Choose(SmartConfiguration config, IEnumerable<string>? extraTypes = null)
    {
        var v2 = config.Capabilities.Contains("permission-v2", StringComparer.Ordinal);
        var supported = config.ScopesSupported is { Count: > 0 } list ? new HashSet<string>(list, StringComparer.Ordinal) : null;
        var chosen = new List<string>();

        foreach (var type in ResourceTypes)
        {
            var v2Scope = $"patient/{type}.rs";
            var v1Scope = $"patient/{type}.read";
            if (supported is null)
            {
                chosen.Add(v2 ? v2Scope : v1Scope);
                continue;
            }
            // A server that lists its scopes is held to its list (asking for an unlisted scope can fail
            // the whole authorization with invalid_scope); a wildcard entry covers every type.
            if (supported.Contains(v2Scope) || (v2 && HasWildcard(supported, "rs"))) chosen.Add(v2Scope);
            else if (supported.Contains(v1Scope) || HasWildcard(supported, "read")) chosen.Add(v1Scope);
            else if (HasWildcard(supported, "rs")) chosen.Add(v2Scope);
        }

        foreach (var type in extraTypes ?? [])
        {
            if (supported is null || ResourceTypes.Contains(type, StringComparer.Ordinal)) continue;
            if (v2 && supported.Contains($"patient/{type}.rs")) chosen.Add($"patient/{type}.rs");
            else if (supported.Contains($"patient/{type}.read")) chosen.Add($"patient/{type}.read");
            else if (supported.Contains($"patient/{type}.rs")) chosen.Add($"patient/{type}.rs");
        }

        foreach (var scope in BaseScopes)
        {
            if (supported is null || supported.Contains(scope)) chosen.Add(scope);
        }
        return chosen;
    }

    private static bool HasWildcard(HashSet<string> supported, string permission) =>
        supported.Contains($"patient/*.{permission}") || supported.Contains("patient/*.*");

    public static IReadOnlyList<string> Split(string? scope) =>
        string.IsNullOrWhiteSpace(scope) ? [] : scope.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

using System.Security.Cryptography;

namespace PatientConnect;

/// <summary>
/// Prefixed, unguessable identifiers. 160 random bits in lowercase base32 keeps ids URL-safe and
/// comfortably above the contract's 128-bit floor.
/// </summary>
public static class Ids
{
    public const string SessionPrefix = "ps_";
    public const string ConnectionPrefix = "conn_";
    public const string SourcePrefix = "src_";
    public const string WebhookEndpointPrefix = "whe_";
    public const string EventPrefix = "evt_";
    public const string ErasurePrefix = "del_";

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string NewSessionId() => SessionPrefix + RandomToken(20);
    public static string NewConnectionId() => ConnectionPrefix + RandomToken(20);
    public static string NewWebhookEndpointId() => WebhookEndpointPrefix + RandomToken(20);
    public static string NewEventId() => EventPrefix + RandomToken(20);
    public static string NewErasureId() => ErasurePrefix + RandomToken(20);

    /// <summary>Deterministic source id: the same FHIR base URL always gets the same id on every silo.</summary>
    public static string SourceIdFor(string fhirBaseUrl) =>
        SourcePrefix + Base32(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(fhirBaseUrl.TrimEnd('/').ToLowerInvariant())).AsSpan(0, 20));

    /// <summary>Base32 text of <paramref name="bytes"/> random bytes from the OS CSPRNG.</summary>
    public static string RandomToken(int bytes)
    {
        Span<byte> buffer = stackalloc byte[bytes];
        RandomNumberGenerator.Fill(buffer);
        return Base32(buffer);
    }

    public static bool IsValid(string? id, string prefix) =>
        id is not null
        && id.Length == prefix.Length + 32
        && id.StartsWith(prefix, StringComparison.Ordinal)
        && id.AsSpan(prefix.Length).IndexOfAnyExcept(Alphabet) < 0;

    /// <summary>The app's own patient identifier: <c>[A-Za-z0-9._-]{1,64}</c>.</summary>
    public static bool IsValidPatientId(string? patientId)
    {
        if (string.IsNullOrEmpty(patientId) || patientId.Length > 64) return false;
        foreach (var c in patientId)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
        }
        return true;
    }

    /// <summary>Grain key of a patient: tenant and the app's patient id (neither may contain '/').</summary>
    public static string PatientKey(string tenantId, string patientId) => $"{tenantId}/{patientId}";

    private static string Base32(ReadOnlySpan<byte> data)
    {
        var chars = new char[(data.Length * 8 + 4) / 5];
        int buffer = 0, bits = 0, index = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                chars[index++] = Alphabet[(buffer >> (bits - 5)) & 31];
                bits -= 5;
            }
        }
        if (bits > 0) chars[index++] = Alphabet[(buffer << (5 - bits)) & 31];
        return new string(chars, 0, index);
    }
}

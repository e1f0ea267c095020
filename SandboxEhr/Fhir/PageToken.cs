using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace SandboxEhr.Fhir;

/// <summary>
/// The opaque <c>_page_token</c> of a next link: the search's parameters and where the next page
/// starts, signed with a per-process key so that a client can neither forge nor edit it. The data is
/// immutable after start, so a position in the fixed result order gives every match exactly once.
/// </summary>
public sealed record PageToken(string HospitalId, string Type, IReadOnlyList<KeyValuePair<string, string>> Parameters, int Offset, int Count)
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    public string Encode()
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new Wire(HospitalId, Type,
            Parameters.Select(p => new[] { p.Key, p.Value }).ToArray(), Offset, Count));
        var mac = HMACSHA256.HashData(Key, payload).AsSpan(0, 16);
        return WebEncoders.Base64UrlEncode(payload) + "." + WebEncoders.Base64UrlEncode(mac);
    }

    public static PageToken? Decode(string token)
    {
        try
        {
            var dot = token.IndexOf('.');
            if (dot <= 0)
                return null;
            var payload = WebEncoders.Base64UrlDecode(token[..dot]);
            var mac = WebEncoders.Base64UrlDecode(token[(dot + 1)..]);
            if (!CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(Key, payload).AsSpan(0, 16)))
                return null;
            var wire = JsonSerializer.Deserialize<Wire>(payload);
            if (wire is null || wire.P is null || wire.O < 0 || wire.C < 0)
                return null;
            return new PageToken(wire.H, wire.T, wire.P.Select(p => KeyValuePair.Create(p[0], p[1])).ToList(), wire.O, wire.C);
        }
        catch (Exception e) when (e is FormatException or JsonException or IndexOutOfRangeException or ArgumentException)
        {
            return null;
        }
    }

    private sealed record Wire(string H, string T, string[][] P, int O, int C);
}

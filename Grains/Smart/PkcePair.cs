using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace PatientConnect.Grains.Smart;

/// <summary>RFC 7636 PKCE with S256, the only method SMART App Launch 2 allows.</summary>
public sealed record PkcePair(string Verifier, string Challenge)
{
    public const string Method = "S256";

    /// <summary>32 random bytes give a 43-character verifier (RFC 7636 §4.1 minimum, 256 bits).</summary>
    public static PkcePair New()
    {
        var verifier = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return new PkcePair(verifier, ChallengeOf(verifier));
    }

    public static string ChallengeOf(string verifier) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    public override string ToString() => $"PkcePair {{ Challenge = {Challenge} }}";
}

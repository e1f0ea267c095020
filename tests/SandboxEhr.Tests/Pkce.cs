using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace SandboxEhr.Tests;

/// <summary>RFC 7636 verifier and S256 challenge, written independently of the server's code.</summary>
public static class Pkce
{
    public static string NewVerifier() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(48));

    public static string Challenge(string verifier) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
}

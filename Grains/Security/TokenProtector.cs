using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace PatientConnect.Grains.Security;

/// <summary>
/// AES-256-GCM for tokens at rest. Each value gets its own random 96-bit nonce (GCM must never reuse
/// a nonce under one key), and is bound to a context string (connection id + field) as associated
/// data, so a ciphertext copied into another connection's row or field fails to decrypt.
/// Layout, base64: version byte | nonce (12) | tag (16) | ciphertext.
/// </summary>
public sealed class TokenProtector
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[] _key;

    public TokenProtector(IOptions<PatientConnectOptions> options)
        : this(options.Value.TokenEncryptionKey)
    {
    }

    public TokenProtector(string? base64Key)
    {
        if (string.IsNullOrWhiteSpace(base64Key))
        {
            throw new InvalidOperationException("PatientConnect:TokenEncryptionKey is required (base64 of 32 random bytes).");
        }
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64Key.Trim());
        }
        catch (FormatException)
        {
            // The exception message must not echo the configured value: it is the key.
            throw new InvalidOperationException("PatientConnect:TokenEncryptionKey is not valid base64.");
        }
        if (key.Length != 32)
        {
            throw new InvalidOperationException($"PatientConnect:TokenEncryptionKey must decode to 32 bytes, not {key.Length}.");
        }
        _key = key;
    }

    public string Protect(string plaintext, string context)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[1 + NonceSize + TagSize + plain.Length];
        output[0] = Version;
        var nonce = output.AsSpan(1, NonceSize);
        var tag = output.AsSpan(1 + NonceSize, TagSize);
        var cipher = output.AsSpan(1 + NonceSize + TagSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, cipher, tag, Encoding.UTF8.GetBytes(context));
        CryptographicOperations.ZeroMemory(plain);
        return Convert.ToBase64String(output);
    }

    /// <summary>The plaintext; throws <see cref="CryptographicException"/> when the value was altered or moved.</summary>
    public string Unprotect(string protectedValue, string context)
    {
        var input = Convert.FromBase64String(protectedValue);
        if (input.Length < 1 + NonceSize + TagSize || input[0] != Version)
        {
            throw new CryptographicException("Unknown protected token format.");
        }
        var nonce = input.AsSpan(1, NonceSize);
        var tag = input.AsSpan(1 + NonceSize, TagSize);
        var cipher = input.AsSpan(1 + NonceSize + TagSize);
        var plain = new byte[cipher.Length];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(nonce, cipher, tag, plain, Encoding.UTF8.GetBytes(context));
        return Encoding.UTF8.GetString(plain);
    }
}

using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace PatientConnect.Grains.Security;

/// <summary>
/// AES-256-GCM for tokens and secrets at rest, under a ring of keys with ids. Each value gets its own
/// random 96-bit nonce (GCM must never reuse a nonce under one key), and is bound to a context string
/// (connection id + field) as associated data, so a ciphertext copied into another connection's row or
/// field fails to decrypt. New values are written under the newest key (the last configured); values
/// under any configured key are read, so a key can be added, everything re-encrypted, and the old
/// key removed (README: "Rotating the token encryption key").
/// Layout, base64: 2 | key id length | key id (UTF-8) | nonce (12) | tag (16) | ciphertext.
/// Values written before key ids (layout 1 | nonce | tag | ciphertext) are read with the
/// <c>TokenEncryptionKey</c> they were written under.
/// </summary>
public sealed class TokenProtector
{
    private const byte LegacyVersion = 1;
    private const byte Version = 2;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>The key id of the single <c>PatientConnect:TokenEncryptionKey</c> setting.</summary>
    public const string LegacyKeyId = "0";

    private readonly Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);
    private readonly byte[]? _legacyKey;
    private readonly byte[] _currentKey;
    private readonly byte[] _currentIdBytes;

    public TokenProtector(IOptions<PatientConnectOptions> options)
        : this(options.Value.TokenEncryptionKey, options.Value.TokenEncryptionKeys.Select(k => (k.Id, k.Key)).ToList())
    {
    }

    public TokenProtector(string? base64Key)
        : this(base64Key, [])
    {
    }

    /// <param name="legacyBase64Key">The single-key setting, if any: the oldest key of the ring, id "0".</param>
    /// <param name="keys">Further keys, oldest first; the last one encrypts.</param>
    public TokenProtector(string? legacyBase64Key, IReadOnlyList<(string? Id, string? Key)> keys)
    {
        var ordered = new List<(string Id, byte[] Key)>();
        if (!string.IsNullOrWhiteSpace(legacyBase64Key))
        {
            _legacyKey = Decode(legacyBase64Key, "PatientConnect:TokenEncryptionKey");
            ordered.Add((LegacyKeyId, _legacyKey));
        }
        for (var i = 0; i < keys.Count; i++)
        {
            var (id, key) = keys[i];
            var name = $"PatientConnect:TokenEncryptionKeys:{i}";
            if (string.IsNullOrWhiteSpace(id) || id.Length > 32 || id.Any(c => c is < '!' or > '~'))
            {
                throw new InvalidOperationException($"{name}:Id is required: 1 to 32 printable ASCII characters.");
            }
            if (string.IsNullOrWhiteSpace(key)) throw new InvalidOperationException($"{name}:Key is required (base64 of 32 random bytes).");
            ordered.Add((id, Decode(key, name + ":Key")));
        }
        if (ordered.Count == 0)
        {
            throw new InvalidOperationException(
                "PatientConnect:TokenEncryptionKey (or PatientConnect:TokenEncryptionKeys:N:Id/Key) is required (base64 of 32 random bytes).");
        }
        foreach (var (id, key) in ordered)
        {
            if (!_keys.TryAdd(id, key)) throw new InvalidOperationException($"Token encryption key id '{id}' is configured twice.");
        }
        CurrentKeyId = ordered[^1].Id;
        _currentKey = ordered[^1].Key;
        _currentIdBytes = Encoding.UTF8.GetBytes(CurrentKeyId);
    }

    /// <summary>The id of the key new values are written under.</summary>
    public string CurrentKeyId { get; }

    public string Protect(string plaintext, string context)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var header = 2 + _currentIdBytes.Length;
        var output = new byte[header + NonceSize + TagSize + plain.Length];
        output[0] = Version;
        output[1] = (byte)_currentIdBytes.Length;
        _currentIdBytes.CopyTo(output, 2);
        var nonce = output.AsSpan(header, NonceSize);
        var tag = output.AsSpan(header + NonceSize, TagSize);
        var cipher = output.AsSpan(header + NonceSize + TagSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_currentKey, TagSize);
        aes.Encrypt(nonce, plain, cipher, tag, Encoding.UTF8.GetBytes(context));
        CryptographicOperations.ZeroMemory(plain);
        return Convert.ToBase64String(output);
    }

    /// <summary>The plaintext; throws <see cref="CryptographicException"/> when the value was altered or moved, or its key is not configured.</summary>
    public string Unprotect(string protectedValue, string context)
    {
        var input = Convert.FromBase64String(protectedValue);
        var (keyId, header) = Header(input);
        if (input.Length < header + NonceSize + TagSize) throw new CryptographicException("Unknown protected token format.");
        var nonce = input.AsSpan(header, NonceSize);
        var tag = input.AsSpan(header + NonceSize, TagSize);
        var cipher = input.AsSpan(header + NonceSize + TagSize);
        var plain = new byte[cipher.Length];
        byte[]? key;
        if (keyId is null) key = _legacyKey ?? throw new CryptographicException(
            "The value was written under PatientConnect:TokenEncryptionKey, which is no longer configured.");
        else if (!_keys.TryGetValue(keyId, out key)) throw new CryptographicException(
            $"The value was written under token encryption key '{keyId}', which is not configured.");
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(nonce, cipher, tag, plain, Encoding.UTF8.GetBytes(context));
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>The key id a value was written under ("0" for values from before key ids).</summary>
    public static string KeyIdOf(string protectedValue) => Header(Convert.FromBase64String(protectedValue)).KeyId ?? LegacyKeyId;

    /// <summary>The value re-encrypted under the current key, or null when it already is.</summary>
    public string? Reprotect(string protectedValue, string context) =>
        KeyIdOf(protectedValue) == CurrentKeyId && protectedValue.Length > 0 && Convert.FromBase64String(protectedValue)[0] == Version
            ? null
            : Protect(Unprotect(protectedValue, context), context);

    private static (string? KeyId, int HeaderLength) Header(byte[] input)
    {
        if (input.Length > 0 && input[0] == LegacyVersion) return (null, 1);
        if (input.Length < 2 || input[0] != Version || input.Length < 2 + input[1]) throw new CryptographicException("Unknown protected token format.");
        return (Encoding.UTF8.GetString(input, 2, input[1]), 2 + input[1]);
    }

    private static byte[] Decode(string base64Key, string setting)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64Key.Trim());
        }
        catch (FormatException)
        {
            // The exception message must not echo the configured value: it is the key.
            throw new InvalidOperationException($"{setting} is not valid base64.");
        }
        if (key.Length != 32) throw new InvalidOperationException($"{setting} must decode to 32 bytes, not {key.Length}.");
        return key;
    }
}

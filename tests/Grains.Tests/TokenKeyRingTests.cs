using System.Security.Cryptography;
using System.Text;
using PatientConnect.Grains.Security;

namespace PatientConnect.Grains.Tests;

/// <summary>Token keys with ids: several configured, the newest encrypts, the others still decrypt.</summary>
public sealed class TokenKeyRingTests
{
    private static readonly string Key1 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private static readonly string Key2 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static TokenProtector Ring(params (string Id, string Key)[] keys) =>
        new(null, keys.Select(k => ((string?)k.Id, (string?)k.Key)).ToList());

    [Fact]
    public void Tokens_under_key_1_are_readable_after_adding_key_2_rewritten_under_key_2_and_key_1_can_then_go()
    {
        var sealed1 = Ring(("k1", Key1)).Protect("refresh-token", "conn_a/refresh");
        Assert.Equal("k1", TokenProtector.KeyIdOf(sealed1));

        var both = Ring(("k1", Key1), ("k2", Key2));
        Assert.Equal("k2", both.CurrentKeyId);
        Assert.Equal("refresh-token", both.Unprotect(sealed1, "conn_a/refresh"));
        Assert.Equal("k2", TokenProtector.KeyIdOf(both.Protect("new", "c")));

        var sealed2 = both.Reprotect(sealed1, "conn_a/refresh");
        Assert.NotNull(sealed2);
        Assert.Equal("k2", TokenProtector.KeyIdOf(sealed2));
        Assert.Null(both.Reprotect(sealed2, "conn_a/refresh"));

        var only2 = Ring(("k2", Key2));
        Assert.Equal("refresh-token", only2.Unprotect(sealed2, "conn_a/refresh"));
        var gone = Assert.ThrowsAny<CryptographicException>(() => only2.Unprotect(sealed1, "conn_a/refresh"));
        Assert.Contains("'k1'", gone.Message);
    }

    [Fact]
    public void Values_from_before_key_ids_are_read_with_the_single_key_and_move_to_the_ring()
    {
        // The layout before key ids: 1 | nonce | tag | ciphertext, under PatientConnect:TokenEncryptionKey.
        var nonce = RandomNumberGenerator.GetBytes(12);
        var plain = Encoding.UTF8.GetBytes("old-token");
        var cipher = new byte[plain.Length];
        var tag = new byte[16];
        using (var aes = new AesGcm(Convert.FromBase64String(Key1), 16))
        {
            aes.Encrypt(nonce, plain, cipher, tag, Encoding.UTF8.GetBytes("ctx"));
        }
        var legacy = Convert.ToBase64String([1, .. nonce, .. tag, .. cipher]);

        var single = new TokenProtector(Key1);
        Assert.Equal("old-token", single.Unprotect(legacy, "ctx"));
        Assert.Equal(TokenProtector.LegacyKeyId, TokenProtector.KeyIdOf(legacy));

        var ring = new TokenProtector(Key1, [("k2", Key2)]);
        var moved = ring.Reprotect(legacy, "ctx")!;
        Assert.Equal("k2", TokenProtector.KeyIdOf(moved));
        Assert.Equal("old-token", Ring(("k2", Key2)).Unprotect(moved, "ctx"));
    }

    [Fact]
    public void A_ring_with_a_repeated_or_missing_id_stops_start_up()
    {
        Assert.Throws<InvalidOperationException>(() => Ring(("k1", Key1), ("k1", Key2)));
        Assert.Throws<InvalidOperationException>(() => Ring(("", Key1)));
        var bad = Assert.Throws<InvalidOperationException>(() => Ring(("k1", "AAAA")));
        Assert.DoesNotContain("AAAA", bad.Message);
        Assert.Throws<InvalidOperationException>(() => new TokenProtector(null, []));
    }
}

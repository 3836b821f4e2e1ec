using System.Buffers.Binary;
using System.Collections.Concurrent;
using Channels.Net.Redis.Crypto;

namespace Channels.Net.Redis.Tests.Crypto;

/// <summary>AEAD nonces: a random prefix (64 bits for AES-GCM, 160 for XChaCha) and a 32-bit counter, a new prefix at every wrap.</summary>
public sealed class CountingNonceSourceTests
{
    [Fact]
    public void Nonces_CountUpUnderOnePrefix()
    {
        var source = new CountingNonceSource(12);
        var nonces = Enumerable.Range(0, 5).Select(_ => Next(source)).ToArray();

        Assert.All(nonces, n => Assert.Equal(nonces[0][..8], n[..8]));
        Assert.Equal([0u, 1u, 2u, 3u, 4u], nonces.Select(n => BinaryPrimitives.ReadUInt32BigEndian(n.AsSpan(8))));
        Assert.NotEqual(Next(new CountingNonceSource(12))[..8], nonces[0][..8]); // another instance: another prefix
    }

    [Fact]
    public void WhenTheCounterWraps_ANewPrefixIsDrawn()
    {
        var source = new CountingNonceSource(12, lastCounter: uint.MaxValue - 3L);
        var nonces = Enumerable.Range(0, 8).Select(_ => Next(source)).ToArray();

        Assert.Equal([uint.MaxValue - 2, uint.MaxValue - 1, uint.MaxValue, 0u, 1u, 2u, 3u, 4u], nonces.Select(n => BinaryPrimitives.ReadUInt32BigEndian(n.AsSpan(8))));
        Assert.Equal(nonces[0][..8], nonces[2][..8]);
        Assert.NotEqual(nonces[2][..8], nonces[3][..8]);
        Assert.Equal(nonces[3][..8], nonces[7][..8]);
        Assert.Equal(8, nonces.Select(Convert.ToHexString).Distinct().Count());
    }

    [Fact]
    public async Task ManyThreadsAcrossAWrap_NeverRepeatANonce()
    {
        var source = new CountingNonceSource(12, lastCounter: uint.MaxValue - 20_000L);
        var seen = new ConcurrentDictionary<string, bool>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 5_000; i++)
            {
                Assert.True(seen.TryAdd(Convert.ToHexString(Next(source)), true));
            }
        })));

        Assert.Equal(40_000, seen.Count);
    }

    [Fact]
    public void XChaChaNonces_HaveA160BitPrefix_AndTheSameCounter()
    {
        var source = new CountingNonceSource(24, lastCounter: uint.MaxValue - 1L);
        var nonces = Enumerable.Range(0, 3).Select(_ =>
        {
            var nonce = new byte[24];
            source.Next(nonce);
            return nonce;
        }).ToArray();

        Assert.Equal([uint.MaxValue, 0u, 1u], nonces.Select(n => BinaryPrimitives.ReadUInt32BigEndian(n.AsSpan(20))));
        Assert.NotEqual(nonces[0][..20], nonces[1][..20]);
        Assert.Equal(nonces[1][..20], nonces[2][..20]);
    }

    [Fact]
    public void AWrongLength_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new CountingNonceSource(12).Next(new byte[24]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CountingNonceSource(8));
    }

    private static byte[] Next(CountingNonceSource source)
    {
        var nonce = new byte[source.NonceLength];
        source.Next(nonce);
        return nonce;
    }
}

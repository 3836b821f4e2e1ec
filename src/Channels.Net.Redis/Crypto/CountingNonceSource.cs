using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Channels.Net.Redis.Crypto;

/// <summary>
/// AEAD nonces that one instance never repeats: a random prefix (the nonce less 4 bytes: 64 bits for
/// AES-GCM's 12-byte nonces, 160 bits for XChaCha20-Poly1305's 24) followed by a 32-bit big-endian
/// counter; a new random prefix is drawn each time the counter wraps.
/// </summary>
/// <remarks>
/// <para>Nonces from one instance differ by construction. Two instances (two processes sharing a
/// key, or one process restarted) repeat a nonce only when they drew the same prefix: with P prefixes
/// drawn under one key (one per cipher instance and per 2^32 messages it encrypts) the chance is at
/// most P²/2^65 for AES-GCM — about 3·10^-8 after a million process starts — and P²/2^161 for
/// XChaCha20-Poly1305. Purely random 96-bit nonces would instead cap an AES-GCM key at about 2^32
/// messages in total (NIST SP 800-38D, section 8.3).</para>
/// <para>The operating system's random generator is asked only for a prefix: a call costs
/// microseconds on some virtual machines, more than the encryption of a small message.</para>
/// <para>Safe to use from many threads at once.</para>
/// </remarks>
internal sealed class CountingNonceSource
{
    private const int CounterLength = 4;

    private readonly Lock _lock = new();
    private readonly int _prefixLength;
    private long _counter;
    private Epoch _epoch;

    /// <summary>Creates a source of <paramref name="nonceLength"/>-byte nonces with a fresh random prefix.</summary>
    public CountingNonceSource(int nonceLength)
        : this(nonceLength, -1)
    {
    }

    /// <summary>Creates a source whose next counter value is <paramref name="lastCounter"/> + 1 (tests use it to reach the wrap).</summary>
    internal CountingNonceSource(int nonceLength, long lastCounter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nonceLength, 12);
        NonceLength = nonceLength;
        _prefixLength = nonceLength - CounterLength;
        _counter = lastCounter;
        _epoch = new Epoch(Math.Max(0, lastCounter + 1) >> 32, RandomNumberGenerator.GetBytes(_prefixLength));
    }

    /// <summary>The length of the nonces made.</summary>
    public int NonceLength { get; }

    /// <summary>Writes the next nonce into <paramref name="nonce"/> (exactly <see cref="NonceLength"/> bytes).</summary>
    public void Next(Span<byte> nonce)
    {
        if (nonce.Length != NonceLength)
        {
            throw new ArgumentException($"The nonce must be {NonceLength} bytes.", nameof(nonce));
        }

        var value = Interlocked.Increment(ref _counter);
        var number = value >> 32;
        var epoch = Volatile.Read(ref _epoch);
        if (epoch.Number != number)
        {
            epoch = EpochFor(number);
        }

        epoch.Prefix.CopyTo(nonce);
        BinaryPrimitives.WriteUInt32BigEndian(nonce[_prefixLength..], unchecked((uint)value));
    }

    private Epoch EpochFor(long number)
    {
        lock (_lock)
        {
            var current = _epoch;
            if (current.Number == number)
            {
                return current;
            }

            var fresh = new Epoch(number, RandomNumberGenerator.GetBytes(_prefixLength));
            if (current.Number < number)
            {
                Volatile.Write(ref _epoch, fresh);
            }

            // A thread that took its counter value before the wrap but got here after it: its own
            // fresh prefix keeps its nonce apart from every other.
            return fresh;
        }
    }

    private sealed record Epoch(long Number, byte[] Prefix);
}

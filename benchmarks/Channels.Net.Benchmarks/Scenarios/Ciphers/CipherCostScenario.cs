using System.Runtime.CompilerServices;
using Channels.Net.Benchmarks.Harness;
using Channels.Net.Redis.Crypto;

namespace Channels.Net.Benchmarks.Scenarios.Ciphers;

/// <summary>
/// What encryption costs per message: one payload of <see cref="PayloadBytes"/> encrypted and then
/// decrypted (what a sender plus a receiver pay), through <see cref="ISymmetricCipher"/>'s span
/// methods into buffers made once, as the Redis layer calls them. Fernet (channels_redis's, the
/// default) beside the opt-in XChaCha20-Poly1305 and AES-256-GCM, each with two keys (a rotation in
/// progress) and the layer's time to live (expiry 60 s + 10 s). One operation = one encrypt + one decrypt.
/// </summary>
public sealed class CipherCostScenario : IDisposable
{
    private const string NewSecret = "benchmark secret (new)";
    private const string OldSecret = "benchmark secret (old)";

    private readonly (string Name, ISymmetricCipher Cipher)[] _ciphers;
    private readonly byte[] _payload;
    private readonly string _id;

    public CipherCostScenario(string id, int payloadBytes)
    {
        _id = id;
        PayloadBytes = payloadBytes;
        _payload = new byte[payloadBytes];
        new Random(42).NextBytes(_payload);
        var ttl = TimeSpan.FromSeconds(70);
        _ciphers =
        [
            ("Fernet (AES-128-CBC + HMAC-SHA256, base64)", FernetCipher.FromSymmetricEncryptionKeys([NewSecret, OldSecret], ttl)),
            ("XChaCha20-Poly1305 (NSec)", AeadCipher.FromSymmetricEncryptionKeys(MessageCipher.XChaCha20Poly1305, [NewSecret, OldSecret], ttl)),
            ("AES-256-GCM (NSec)", AeadCipher.FromSymmetricEncryptionKeys(MessageCipher.Aes256Gcm, [NewSecret, OldSecret], ttl)),
        ];
    }

    /// <summary>The plaintext length.</summary>
    public int PayloadBytes { get; }

    /// <summary>Encrypt+decrypt pairs per timed round: about 20-50 ms per round here for every case.</summary>
    private int OperationsPerRound => PayloadBytes <= 1024 ? 20_000 : 1_000;

    public ScenarioOutcome Run(HarnessSettings settings, TextWriter progress)
    {
        var cases = _ciphers.Select((c, i) => MakeCase(c.Name, c.Cipher, isBaseline: i == 0)).ToArray();
        var results = Runner.RunInterleaved(cases, settings, progress);
        var outcome = new ScenarioOutcome(_id, $"encrypt + decrypt of a {PayloadBytes:N0}-byte payload (two keys, TTL 70 s; one thread)", results);
        var fernet = results[0];
        for (var i = 0; i < _ciphers.Length; i++)
        {
            var (name, cipher) = _ciphers[i];
            var token = cipher.GetCiphertextLength(PayloadBytes);
            outcome.Ratios.Add(
                $"{name}: {Report.Ns(results[i].MedianNsPerOp)} ns per message ({Report.Ratio(results[i].MedianNsPerOp / fernet.MedianNsPerOp)} Fernet's), " +
                $"token {token:N0} B = payload + {token - PayloadBytes:N0} B, allocated {Report.Bytes(results[i].BytesPerOp)} B per message");
        }

        return outcome;
    }

    public void Dispose()
    {
        foreach (var (_, cipher) in _ciphers)
        {
            (cipher as IDisposable)?.Dispose();
        }
    }

    private BenchCase MakeCase(string name, ISymmetricCipher cipher, bool isBaseline)
    {
        var payload = _payload;
        var token = new byte[cipher.GetCiphertextLength(payload.Length)];
        var plaintext = new byte[cipher.GetMaxPlaintextLength(token.Length)];
        var operations = OperationsPerRound;
        return new BenchCase(name, "msg", operations, () => Round(cipher, payload, token, plaintext, operations)) { IsBaseline = isBaseline };
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Round(ISymmetricCipher cipher, byte[] payload, byte[] token, byte[] plaintext, int operations)
    {
        for (var i = 0; i < operations; i++)
        {
            var written = cipher.Encrypt(payload, token);
            var read = cipher.Decrypt(token.AsSpan(0, written), plaintext);
            if (read != payload.Length || plaintext[read - 1] != payload[^1])
            {
                throw new InvalidOperationException("Benchmark is broken: the decrypted payload differs.");
            }
        }
    }
}

using Channels.Net.Layers;
using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Wire;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using ChannelMessage = Channels.Net.Layers.ChannelMessage;

namespace Channels.Net.Redis.Tests.Layer;

/// <summary>
/// Redis layers with an AEAD <see cref="RedisChannelLayerOptions.Cipher"/> on a real redis-server:
/// what lands in Redis, rotation between processes, and what happens to a message a layer cannot
/// read (dropped, logged with fingerprints, the next message delivered).
/// </summary>
public sealed class RedisAeadLayerTests(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string NewSecret = "rotation-secret-NEW-4c1d";
    private const string OldSecret = "rotation-secret-OLD-9e2b";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly List<IAsyncDisposable> _owned = [];
    private readonly string _prefix = $"aead{Guid.NewGuid():N}";
    private ConnectionMultiplexer? _inspector;

    public static TheoryData<MessageCipher> Ciphers => new() { MessageCipher.XChaCha20Poly1305, MessageCipher.Aes256Gcm };

    public async Task InitializeAsync() => _inspector = await server.ConnectAsync();

    public async Task DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        if (_inspector is not null)
        {
            await _inspector.CloseAsync();
            _inspector.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public async Task Members_in_Redis_are_aead_tokens_naming_the_first_key(MessageCipher cipher)
    {
        var (sender, _) = Layer(cipher, NewSecret, OldSecret);
        var (receiver, _) = Layer(cipher, OldSecret, NewSecret);
        var message = ChannelMessage.Create("secret.note", [new("text", "attack at dawn")]);

        await sender.SendAsync("aead-worker", message);

        var member = (byte[])(await _inspector!.GetDatabase().SortedSetRangeByRankAsync(_prefix + "aead-worker")).Single()!;
        var token = member.AsSpan(ChannelsRedisSerializer.RandomPrefixLength);
        Assert.Equal(cipher == MessageCipher.XChaCha20Poly1305 ? 0xC1 : 0xC2, token[0]);
        Assert.Equal(Fingerprint(cipher, NewSecret), Convert.ToHexStringLower(token.Slice(1, 4)));
        Assert.Equal(-1, token.IndexOf("attack at dawn"u8));

        var received = await receiver.ReceiveAsync("aead-worker").AsTask().WaitAsync(Wait);
        Assert.Equal("attack at dawn", received["text"]);
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public async Task Rotation_between_processes_old_key_decrypts_new_key_encrypts(MessageCipher cipher)
    {
        var (oldOnly, oldLogs) = Layer(cipher, OldSecret);
        var (rotating, _) = Layer(cipher, NewSecret, OldSecret);
        var (newOnly, _) = Layer(cipher, NewSecret);
        var toRotating = await rotating.NewChannelAsync();
        var toNew = await newOnly.NewChannelAsync();
        var toOld = await oldOnly.NewChannelAsync();

        // Step 1 of a rotation: a process still on the old key only; the rotating one reads it.
        await oldOnly.SendAsync(toRotating, Note("from old"));
        Assert.Equal("from old", (await rotating.ReceiveAsync(toRotating).AsTask().WaitAsync(Wait))["text"]);

        // The rotating process encrypts with the new key: a process that has it reads it...
        await rotating.SendAsync(toNew, Note("from rotating"));
        Assert.Equal("from rotating", (await newOnly.ReceiveAsync(toNew).AsTask().WaitAsync(Wait))["text"]);

        // ...and one that has only the old key drops it with a warning, then reads the next message.
        await rotating.SendAsync(toOld, Note("unreadable here"));
        await oldOnly.SendAsync(toOld, Note("readable"));
        Assert.Equal("readable", (await oldOnly.ReceiveAsync(toOld).AsTask().WaitAsync(Wait))["text"]);

        var warning = Assert.Single(oldLogs.Entries, e => e.EventId.Id == 502);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains($"made with key {Fingerprint(cipher, NewSecret)}, which this process does not have", warning.Message, StringComparison.Ordinal);
        Assert.Contains($"Key fingerprints tried: {Fingerprint(cipher, OldSecret)}.", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(OldSecret, warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(NewSecret, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_layer_with_another_cipher_drops_the_message_and_says_so()
    {
        var (xchacha, _) = Layer(MessageCipher.XChaCha20Poly1305, "shared");
        var (fernet, fernetLogs) = Layer(MessageCipher.Fernet, "shared");
        var (gcm, gcmLogs) = Layer(MessageCipher.Aes256Gcm, "shared");

        await xchacha.SendAsync("mixed-worker", Note("xchacha"));
        await fernet.SendAsync("mixed-worker", Note("fernet"));
        Assert.Equal("fernet", (await fernet.ReceiveAsync("mixed-worker").AsTask().WaitAsync(Wait))["text"]);

        await xchacha.SendAsync("mixed-worker", Note("xchacha again"));
        await gcm.SendAsync("mixed-worker", Note("gcm"));
        Assert.Equal("gcm", (await gcm.ReceiveAsync("mixed-worker").AsTask().WaitAsync(Wait))["text"]);

        Assert.Contains("not URL-safe base64", Assert.Single(fernetLogs.Entries, e => e.EventId.Id == 502).Message, StringComparison.Ordinal);
        Assert.Contains("The token is XChaCha20-Poly1305, but this process uses AES-256-GCM: every process must use the same Cipher", Assert.Single(gcmLogs.Entries, e => e.EventId.Id == 502).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_up_logs_which_cipher_the_layer_uses()
    {
        var (_, xchachaLogs) = Layer(MessageCipher.XChaCha20Poly1305, NewSecret, OldSecret);
        var (_, gcmLogs) = Layer(MessageCipher.Aes256Gcm, NewSecret);
        var (_, fernetLogs) = Layer(MessageCipher.Fernet, NewSecret);
        var (_, plainLogs) = Layer(MessageCipher.Fernet);

        var xchacha = Assert.Single(xchachaLogs.Entries, e => e.EventId.Id == 530);
        Assert.Equal(LogLevel.Information, xchacha.Level);
        Assert.Contains(
            $"encrypted with XChaCha20-Poly1305 (key fingerprints {Fingerprint(MessageCipher.XChaCha20Poly1305, NewSecret)}, {Fingerprint(MessageCipher.XChaCha20Poly1305, OldSecret)}; the first encrypts",
            xchacha.Message,
            StringComparison.Ordinal);
        Assert.DoesNotContain(NewSecret, xchacha.Message, StringComparison.Ordinal);
        Assert.Contains("channels_redis (Python) cannot", xchacha.Message, StringComparison.Ordinal);
        Assert.Contains("encrypted with AES-256-GCM", Assert.Single(gcmLogs.Entries, e => e.EventId.Id == 530).Message, StringComparison.Ordinal);
        var fernet = Assert.Single(fernetLogs.Entries, e => e.EventId.Id == 530).Message;
        Assert.Contains($"encrypted with Fernet (key fingerprints {FernetKey.FromSymmetricEncryptionKey(NewSecret).Fingerprint};", fernet, StringComparison.Ordinal);
        Assert.Contains("channels_redis (Python) processes with the same keys can read them", fernet, StringComparison.Ordinal);
        Assert.Equal(LogLevel.Information, Assert.Single(plainLogs.Entries, e => e.EventId.Id == 531).Level);
    }

    private static ChannelMessage Note(string text) => ChannelMessage.Create("note", [new("text", text)]);

    private static string Fingerprint(MessageCipher cipher, string secret)
    {
        using var aead = AeadCipher.FromSymmetricEncryptionKeys(cipher, [secret]);
        return aead.KeyFingerprints[0];
    }

    private (RedisChannelLayer Layer, RecordingLoggerProvider Logs) Layer(MessageCipher cipher, params string[] keys)
    {
        var options = new RedisChannelLayerOptions
        {
            Prefix = _prefix,
            BlockingPopTimeout = TimeSpan.FromSeconds(1),
            Cipher = cipher,
        };
        options.Hosts.Add(RedisHost.FromAddress(server.Url));
        foreach (var key in keys)
        {
            options.SymmetricEncryptionKeys.Add(key);
        }

        var logs = new RecordingLoggerProvider();
        var factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        var layer = new RedisChannelLayer(options, factory);
        _owned.Add(layer);
        _owned.Add(new AsyncDisposableAction(factory.Dispose));
        return (layer, logs);
    }

    private sealed class AsyncDisposableAction(Action action) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            action();
            return ValueTask.CompletedTask;
        }
    }
}

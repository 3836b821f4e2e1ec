using System.Buffers.Binary;
using System.Buffers.Text;
using Channels.Net.Interop.Tests.Infrastructure;
using Channels.Net.Layers;
using Channels.Net.Redis.Crypto;
using Channels.Net.Redis.Wire;
using Channels.Net.Testing.Conformance;
using StackExchange.Redis;

namespace Channels.Net.Interop.Tests;

/// <summary>
/// Byte-level checks: what Channels.Net writes to Redis — key names, key types, members, scores,
/// TTLs — is what channels_redis writes, and Python reads our member bytes as the identical dict.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class WireBytesTests(InteropEnvironment env)
{
    private const int Expiry = 60; // channels_redis's default, which both layers here keep
    private const int GroupExpiry = 86400;

    public static TheoryData<Encryption> Encryptions => [Encryption.Plain, Encryption.Encrypted, Encryption.Rotated];

    private static MessageMap Sample() => Messages.Of(
        "wire.check",
        ("text", "héllo 🎉 中文"),
        ("n", 42L),
        ("big", ulong.MaxValue),
        ("negative", long.MinValue),
        ("f", 1.5),
        ("bytes", new byte[] { 0, 1, 2, 0xff }),
        ("list", MessageList.Create([1L, "a", null, true])),
        ("map", MessageMap.Create([new("x", -0.0)])));

    [Theory]
    [MemberData(nameof(Encryptions))]
    public async Task A_dotnet_send_writes_the_keys_members_scores_and_ttls_channels_redis_writes(Encryption encryption)
    {
        var prefix = InteropEnvironment.NewPrefix();
        var (senderKeys, receiverKeys) = InteropEnvironment.KeysFor(encryption);
        await using var dotNet = env.CreateDotNet(prefix, senderKeys);
        await using var python = await env.CreatePythonAsync(prefix, receiverKeys);
        await using var pythonTwin = await env.CreatePythonAsync(InteropEnvironment.NewPrefix(), senderKeys); // same keys as ours: serializes the reference bytes
        var message = Sample();
        var pyA = await python.NewChannelAsync();
        var pyB = await python.NewChannelAsync();
        var group = "wire-" + Guid.NewGuid().ToString("N")[..8];

        var before = UnixNow();
        await dotNet.SendOkAsync("wire-worker", message);
        await dotNet.SendOkAsync(pyA, message);
        await dotNet.GroupAddAsync(group, pyA);
        await dotNet.GroupAddAsync(group, pyB);
        await dotNet.GroupSendAsync(group, message);
        var after = UnixNow();

        // The keys channels_redis uses: {prefix}{channel}, {prefix}{non-local name}, {prefix}:group:{group}; besides them
        // only the sender's own copy of the group's members (docs/redis.md), which no channels_redis command reads:
        // {prefix}:group:{group}:copy.{sender}.{n}, a sorted set equal to the group, lapsing with it at the latest.
        var processKey = $"{prefix}specific.{python.ClientPrefix}!";
        var groupKey = $"{prefix}:group:{group}";
        var copyPrefix = $"{groupKey}:copy.{dotNet.ClientPrefix}.";
        var keys = env.KeysUnder(prefix).ToList();
        var copy = Assert.Single(keys, k => k.StartsWith(copyPrefix, StringComparison.Ordinal));
        Assert.Equal(new[] { groupKey, processKey, prefix + "wire-worker" }.Order(StringComparer.Ordinal), keys.Where(k => k != copy));
        Assert.Equal(await env.Inspect.SortedSetRangeByRankAsync(groupKey), await env.Inspect.SortedSetRangeByRankAsync(copy));
        Assert.InRange((await env.Inspect.KeyTimeToLiveAsync(copy))!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(Math.Min(GroupExpiry, Channels.Net.Redis.RedisChannelLayer.MemberCopySeconds)));
        foreach (var key in new[] { groupKey, processKey, prefix + "wire-worker" })
        {
            Assert.Equal(RedisType.SortedSet, await env.Inspect.KeyTypeAsync(key));
        }

        // The plain channel: one member, scored with time.time(), expiring after `expiry`.
        var worker = await env.Inspect.SortedSetRangeByRankWithScoresAsync(prefix + "wire-worker");
        var workerEntry = Assert.Single(worker);
        AssertScore(workerEntry.Score, before, after);
        await AssertTtlAsync(prefix + "wire-worker", Expiry);
        await AssertMemberAsync((byte[])workerEntry.Element!, message, python, pythonTwin, encryption, before, after);

        // The process key: the direct send (__asgi_channel__ = the full name), then the group send
        // (__asgi_channel__ = the list of that process's members, in ZRANGE order).
        var process = await env.Inspect.SortedSetRangeByRankWithScoresAsync(processKey);
        Assert.Equal(2, process.Length);
        AssertScore(process[0].Score, before, after);
        AssertScore(process[1].Score, before, after);
        Assert.True(process[0].Score <= process[1].Score);
        await AssertTtlAsync(processKey, Expiry);
        await AssertMemberAsync((byte[])process[0].Element!, Plus(message, pyA), python, pythonTwin, encryption, before, after);
        var groupMembers = (await env.Inspect.SortedSetRangeByRankAsync(groupKey)).Select(m => (string)m!).ToArray();
        Assert.Equal(new[] { pyA, pyB }.Order(StringComparer.Ordinal), groupMembers.Order(StringComparer.Ordinal));
        await AssertMemberAsync((byte[])process[1].Element!, Plus(message, MessageList.Create(groupMembers)), python, pythonTwin, encryption, before, after);

        // The group: members are the channel names' UTF-8 bytes, scored with the join time, expiring after group_expiry.
        foreach (var entry in await env.Inspect.SortedSetRangeByRankWithScoresAsync(groupKey))
        {
            Assert.Contains(((byte[])entry.Element!).AsSpan().ToArray(), new[] { pyA, pyB }.Select(n => System.Text.Encoding.UTF8.GetBytes(n)), ByteArrayComparer.Instance);
            AssertScore(entry.Score, before, after);
        }

        await AssertTtlAsync(groupKey, GroupExpiry);

        // Fractional seconds, as time.time() gives: whole-second scores would order same-second messages by their random bytes.
        var scores = worker.Concat(process).Select(e => e.Score).ToArray();
        Assert.Contains(scores, score => score != Math.Floor(score));

        // And Python's receive reads them all.
        MessageAssert.Equal(message, await python.ReceiveAsync(pyA));
        MessageAssert.Equal(message, await python.ReceiveAsync(pyA));
        MessageAssert.Equal(message, await python.ReceiveAsync(pyB));
        MessageAssert.Equal(message, await python.ReceiveAsync("wire-worker"));
    }

    [Fact]
    public async Task Dotnet_and_python_members_for_one_message_differ_only_in_the_12_random_bytes()
    {
        var prefix = InteropEnvironment.NewPrefix();
        await using var dotNet = env.CreateDotNet(prefix);
        await using var python = await env.CreatePythonAsync(prefix);
        var message = ValueKindsTests.AllKinds();
        await dotNet.SendOkAsync("twins", message);
        await dotNet.SendOkAsync("twins", message);
        await python.SendOkAsync("twins", message);

        var members = (await env.Inspect.SortedSetRangeByRankAsync(prefix + "twins")).Select(m => (byte[])m!).ToArray();
        Assert.Equal(3, members.Length); // equal messages are still distinct members, thanks to the random prefix
        Assert.Equal(3, members.Select(m => Convert.ToHexString(m, 0, 12)).Distinct().Count());
        var payloads = members.Select(m => Convert.ToHexString(m.AsSpan(12))).Distinct().ToArray();
        Assert.Equal(Convert.ToHexString(await env.Peer.PackbAsync(message)), Assert.Single(payloads));
    }

    [Theory]
    [MemberData(nameof(Encryptions))]
    public async Task The_serializers_agree_with_channels_redis_on_every_value_kind(Encryption encryption)
    {
        // No Redis: our codec against msgpack.packb, and our serializer against channels_redis's serialize/deserialize.
        var (senderKeys, receiverKeys) = InteropEnvironment.KeysFor(encryption);
        await using var pythonSender = await env.CreatePythonAsync(InteropEnvironment.NewPrefix(), senderKeys);
        await using var pythonReceiver = await env.CreatePythonAsync(InteropEnvironment.NewPrefix(), receiverKeys);
        var ours = Serializer(senderKeys);
        var oursReceiving = Serializer(receiverKeys);
        var message = ValueKindsTests.AllKinds();
        var channels = new[] { "specific.abc!def", "specific.abc!ghi" };

        Assert.Equal(await env.Peer.PackbAsync(message), MessageCodec.Encode(message));
        Assert.Equal(await env.Peer.PackbAsync(Plus(message, channels[0])), MessageCodec.Encode(message, channels[0]));
        Assert.Equal(await env.Peer.PackbAsync(Plus(message, MessageList.Create(channels))), MessageCodec.Encode(message, channels));

        // .NET -> Python
        MessageAssert.Equal(message, await pythonReceiver.Layer.DeserializeAsync(ours.Serialize(message)));
        MessageAssert.Equal(Plus(message, MessageList.Create(channels)), await pythonReceiver.Layer.DeserializeAsync(ours.Serialize(message, channels)));

        // Python -> .NET
        var decoded = oursReceiving.Deserialize(await pythonSender.Layer.SerializeAsync(message));
        Assert.Null(decoded.AsgiChannel);
        MessageAssert.Equal(message, decoded.Message);
        decoded = oursReceiving.Deserialize(await pythonSender.Layer.SerializeAsync(message, channels));
        Assert.Equal(channels, decoded.TargetChannels);
        MessageAssert.Equal(message, decoded.Message);
        decoded = oursReceiving.Deserialize(await pythonSender.Layer.SerializeAsync(message, channels[0]));
        Assert.Equal(channels[0], decoded.AsgiChannel);
    }

    private static ChannelsRedisSerializer Serializer(string[]? keys) =>
        new(keys is null ? null : FernetCipher.FromSymmetricEncryptionKeys(keys, TimeSpan.FromSeconds(Expiry + 10)));

    /// <summary>
    /// A member is 12 random bytes and then msgpack.packb of the message (plain), or a Fernet token of
    /// exactly that (encrypted); Python's deserialize reads it as the identical dict.
    /// </summary>
    private async Task AssertMemberAsync(byte[] member, MessageMap expected, PythonSide python, PythonSide pythonTwin, Encryption encryption, double before, double after)
    {
        Assert.True(member.Length > 12, $"A member of {member.Length} bytes cannot hold the 12-byte prefix and a payload.");
        var payload = member[12..];
        var packed = await env.Peer.PackbAsync(expected);
        if (encryption == Encryption.Plain)
        {
            Assert.Equal(Convert.ToHexString(packed), Convert.ToHexString(payload));
            var reference = await pythonTwin.Layer.SerializeAsync(WithoutReserved(expected), expected.TryGetValue(ChannelNames.ReservedMessageKey, out var asgi) ? asgi : null);
            Assert.Equal(Convert.ToHexString(reference[12..]), Convert.ToHexString(payload));
        }
        else
        {
            // A Fernet token: URL-safe base64 (with padding) of 0x80 | timestamp | IV | AES-CBC ciphertext | HMAC.
            Assert.All(payload, b => Assert.True(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'=', $"0x{b:x2} is not URL-safe base64"));
            var raw = Base64Url.DecodeFromUtf8(payload);
            Assert.Equal(0x80, raw[0]);
            var timestamp = (long)BinaryPrimitives.ReadUInt64BigEndian(raw.AsSpan(1, 8));
            Assert.InRange(timestamp, (long)Math.Floor(before) - 1, (long)Math.Ceiling(after) + 1);
            Assert.Equal(1 + 8 + 16 + ((packed.Length / 16) + 1) * 16 + 32, raw.Length);
            Assert.Equal(Convert.ToHexString(packed), Convert.ToHexString(await python.Layer.DecryptAsync(payload)));
        }

        MessageAssert.Equal(expected, await python.Layer.DeserializeAsync(member));
    }

    /// <summary>The map with <c>__asgi_channel__</c> added last, as channels_redis adds it (<c>message["__asgi_channel__"] = ...</c>).</summary>
    private static MessageMap Plus(MessageMap map, object? asgiChannel) =>
        MessageMap.Create([.. map, new(ChannelNames.ReservedMessageKey, asgiChannel)]);

    private static MessageMap WithoutReserved(MessageMap map) =>
        MessageMap.Create(map.Where(e => e.Key != ChannelNames.ReservedMessageKey));

    private async Task AssertTtlAsync(string key, int expected)
    {
        var ttl = await env.Inspect.KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value.TotalSeconds, expected - 3, expected);
    }

    private static void AssertScore(double score, double before, double after) =>
        Assert.InRange(score, before - 1, after + 1); // time.time(): float seconds since the epoch

    private static double UnixNow() => (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).TotalSeconds;

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }
}

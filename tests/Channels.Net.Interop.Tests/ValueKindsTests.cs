using Channels.Net.Interop.Tests.Infrastructure;
using Channels.Net.Layers;
using Channels.Net.Testing.Conformance;

namespace Channels.Net.Interop.Tests;

/// <summary>Every kind of value a message carries arrives exactly, whichever process sent it and by whichever route.</summary>
[Collection(InteropCollection.Name)]
public sealed class ValueKindsTests(InteropEnvironment env)
{
    public static TheoryData<Direction, Encryption> Matrix => Messages.Matrix();

    /// <summary>One message holding every value kind, at the edges msgpack encodes differently.</summary>
    public static MessageMap AllKinds()
    {
        var random = new Random(20261125);
        var bytes256 = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var bigBytes = new byte[70_000]; // bin32
        random.NextBytes(bigBytes);
        var longText = string.Concat(Enumerable.Repeat("日本語 text ✓ ", 6_000)); // str32 in UTF-8

        return Messages.Of(
            "interop.values",
            ("ascii", "plain ASCII"),
            ("unicode", "héllo wörld — ñ ß ø"),
            ("emoji", "😀🎉👍🏽👨‍👩‍👧‍👦"),
            ("cjk", "中文字符 日本語 한국어"),
            ("rtl", "שלום مرحبا"),
            ("empty_string", ""),
            ("nul", "a\0b"),
            ("str8", new string('x', 200)),
            ("str16", new string('y', 1_000)),
            ("str32", longText),
            ("bytes_empty", Array.Empty<byte>()),
            ("bytes_all", bytes256),
            ("bytes_utf8_lookalike", "not text"u8.ToArray()),
            ("bytes_big", bigBytes),
            ("ints_small", MessageList.Create([0L, 1L, -1L, 127L, 128L, -32L, -33L, 255L, 256L, -128L, -129L, 65_535L, 65_536L, -32_768L, -32_769L])),
            ("ints_32", MessageList.Create([2_147_483_647L, 2_147_483_648L, 4_294_967_295L, -2_147_483_648L, -2_147_483_649L])),
            ("ints_past_32_bits", MessageList.Create([4_294_967_296L, 4_294_967_297L, -4_294_967_296L, 1_099_511_627_776L])),
            ("ints_past_53_bits", MessageList.Create([9_007_199_254_740_992L, 9_007_199_254_740_993L, -9_007_199_254_740_993L, 123_456_789_012_345_678L])),
            ("int64_max", long.MaxValue),
            ("int64_max_minus_1", long.MaxValue - 1),
            ("int64_min", long.MinValue),
            ("int64_min_plus_1", long.MinValue + 1),
            ("uint64_2_63", 9_223_372_036_854_775_808UL),
            ("uint64_max", ulong.MaxValue),
            ("uint64_max_minus_1", ulong.MaxValue - 1),
            ("floats", MessageList.Create([1.5, -1.5, 0.0, -0.0, 3.0, 0.1, 1e300, -1e300, 1e-300, double.Epsilon, double.MaxValue, double.MinValue, 2.2250738585072014e-308, Math.PI])),
            ("float_specials", MessageList.Create([double.PositiveInfinity, double.NegativeInfinity, double.NaN])),
            ("whole_float", 2.0),
            ("true", true),
            ("false", false),
            ("null", null),
            ("empty_list", MessageList.Empty),
            ("empty_map", MessageMap.Empty),
            ("nested_list", MessageList.Create([1L, "two", MessageList.Create([3.5, MessageList.Create([null, true, false])]), MessageMap.Create([new("k", new byte[] { 1, 2, 3 })])])),
            ("array16", MessageList.Create([.. Enumerable.Range(0, 20).Select(i => (object?)(long)i)])),
            ("nested_map", MessageMap.Create([
                new("a", MessageMap.Create([
                    new("b", MessageMap.Create([
                        new("c", MessageList.Create([1L, 2L, MessageMap.Create([new("d", "e")])])),
                    ])),
                ])),
                new("z", -0.0),
            ])),
            ("map16", MessageMap.Create([.. Enumerable.Range(0, 17).Select(i => new KeyValuePair<string, object?>($"key{i:D2}", (long)i * 1_000_003))])),
            ("unicode_keys", MessageMap.Create([new("ключ", 1L), new("键", 2L), new("🔑", 3L), new("", "empty key")])),
            ("key order", MessageMap.Create([new("zebra", 1L), new("apple", 2L), new("mango", 3L)])));
    }

    [Fact]
    public async Task The_json_bridge_itself_is_exact()
    {
        // Through Python's JSON bridge alone, no Redis: what the interop tests below compare is not blurred by the harness.
        var message = AllKinds();
        MessageAssert.Equal(message, (MessageMap?)await env.Peer.EchoAsync(message));
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Every_value_kind_arrives_exactly_by_send_worker_channel_and_group_send(Direction direction, Encryption encryption)
    {
        await using var pair = await env.CreatePairAsync(direction, encryption);
        var (sender, receiver) = (pair.Sender, pair.Receiver);
        var message = AllKinds();
        var local = await receiver.NewChannelAsync();
        var group = "values-" + Guid.NewGuid().ToString("N")[..8];
        await receiver.GroupAddAsync(group, local);

        await sender.SendOkAsync(local, message);
        await sender.SendOkAsync("values-worker", message);
        await sender.GroupSendAsync(group, message);

        MessageAssert.Equal(message, await receiver.ReceiveAsync(local));
        MessageAssert.Equal(message, await receiver.ReceiveAsync("values-worker"));
        MessageAssert.Equal(message, await receiver.ReceiveAsync(local));
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task A_message_past_one_megabyte_arrives_exactly(Direction direction, Encryption encryption)
    {
        await using var pair = await env.CreatePairAsync(direction, encryption);
        var payload = new byte[1_200_000];
        new Random(7).NextBytes(payload);
        var message = Messages.Of("big.upload", ("data", payload), ("note", string.Concat(Enumerable.Repeat("ü€😀", 50_000))));
        var local = await pair.Receiver.NewChannelAsync();

        await pair.Sender.SendOkAsync(local, message);

        MessageAssert.Equal(message, await pair.Receiver.ReceiveAsync(local));
    }
}

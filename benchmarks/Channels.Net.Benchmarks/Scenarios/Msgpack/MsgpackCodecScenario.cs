using System.Buffers;
using System.Runtime.CompilerServices;
using Channels.Net.Benchmarks.Harness;
using Channels.Net.Layers;
using Channels.Net.Redis.Wire;

namespace Channels.Net.Benchmarks.Scenarios.Msgpack;

/// <summary>One codec under test: ours, or the library's structs doing the same job.</summary>
internal interface IWireCodec
{
    static abstract void Encode(ChannelMessage message, string channel, IBufferWriter<byte> output);

    static abstract void Encode(ChannelMessage message, string[] channels, IBufferWriter<byte> output);

    static abstract DecodedMessage Decode(ReadOnlyMemory<byte> payload);
}

/// <summary>The Redis layer's own codec (<see cref="MessageCodec"/>).</summary>
internal readonly struct OurCodec : IWireCodec
{
    public static void Encode(ChannelMessage message, string channel, IBufferWriter<byte> output) => MessageCodec.Encode(message, channel, output);

    public static void Encode(ChannelMessage message, string[] channels, IBufferWriter<byte> output) => MessageCodec.Encode(message, channels, output);

    public static DecodedMessage Decode(ReadOnlyMemory<byte> payload) => MessageCodec.Decode(payload.Span);
}

/// <summary>MessagePack-CSharp's writer and reader with the layer's rules (<see cref="LayerRules"/>).</summary>
internal readonly struct LibraryRulesCodec : IWireCodec
{
    public static void Encode(ChannelMessage message, string channel, IBufferWriter<byte> output) => LibraryCodec<LayerRules>.Encode(message, channel, output);

    public static void Encode(ChannelMessage message, string[] channels, IBufferWriter<byte> output) => LibraryCodec<LayerRules>.Encode(message, channels, output);

    public static DecodedMessage Decode(ReadOnlyMemory<byte> payload) => LibraryCodec<LayerRules>.Decode(payload);
}

/// <summary>MessagePack-CSharp's writer and reader with its own string handling (no surrogate check, lenient UTF-8).</summary>
internal readonly struct LibraryAsIsCodec : IWireCodec
{
    public static void Encode(ChannelMessage message, string channel, IBufferWriter<byte> output) => LibraryCodec<LibraryStrings>.Encode(message, channel, output);

    public static void Encode(ChannelMessage message, string[] channels, IBufferWriter<byte> output) => LibraryCodec<LibraryStrings>.Encode(message, channels, output);

    public static DecodedMessage Decode(ReadOnlyMemory<byte> payload) => LibraryCodec<LibraryStrings>.Decode(payload);
}

/// <summary>
/// Encode or decode of one channels_redis message, per codec: ours (the baseline), the library with the layer's rules,
/// and the library as it comes. Encoding writes into one reused <see cref="ArrayBufferWriter{T}"/> (reset per message);
/// decoding reads the bytes ours wrote into a <see cref="DecodedMessage"/>. Before timing, every codec's bytes and
/// decoded messages are checked equal to ours; every timed message is checked (length, or type and channels).
/// </summary>
public sealed class MsgpackCodecScenario
{
    private readonly string _id;
    private readonly string _title;
    private readonly bool _decode;
    private readonly ChannelMessage _message;
    private readonly string? _channel;
    private readonly string[]? _channels;
    private readonly int _operations;
    private readonly byte[] _expected;

    private MsgpackCodecScenario(string id, string title, bool decode, string? channel, string[]? channels, int operations)
    {
        _id = id;
        _title = title;
        _decode = decode;
        _message = MsgpackMessages.Chat();
        _channel = channel;
        _channels = channels;
        _operations = operations;
        _expected = channel is not null ? MessageCodec.Encode(_message, channel) : MessageCodec.Encode(_message, channels!);
    }

    /// <summary>The four scenarios: encode and decode of a send to one process-local channel and of a group send.</summary>
    public static IReadOnlyList<MsgpackCodecScenario> All()
    {
        var one = MsgpackMessages.OneChannel();
        var group = MsgpackMessages.GroupChannels();
        return
        [
            new("msgpack-encode-1", "encode {type, message: 100 ASCII, __asgi_channel__: one name} (one thread)", false, one, null, 100_000),
            new("msgpack-encode-100", $"encode {{type, message: 100 ASCII, __asgi_channel__: list of {MsgpackMessages.GroupMembers} names}} (one thread)", false, null, group, 5_000),
            new("msgpack-decode-1", "decode the same bytes into ChannelMessage + channel name (one thread)", true, one, null, 50_000),
            new("msgpack-decode-100", $"decode the same bytes into ChannelMessage + string[{MsgpackMessages.GroupMembers}] (one thread)", true, null, group, 3_000),
        ];
    }

    public ScenarioOutcome Run(HarnessSettings settings, TextWriter progress)
    {
        progress.WriteLine($"{_id}) {_title}, {_expected.Length:N0} bytes ...");
        var cases = new[]
        {
            MakeCase<OurCodec>("ours (Channels.Net.Redis.Wire)", isBaseline: true),
            MakeCase<LibraryRulesCodec>("MessagePack-CSharp structs, layer's rules"),
            MakeCase<LibraryAsIsCodec>("MessagePack-CSharp structs, as it comes"),
        };
        var results = Runner.RunInterleaved(cases, settings, progress);
        var outcome = new ScenarioOutcome(_id, $"{_title}; message {_expected.Length:N0} B", results);
        var ours = results[0];
        foreach (var other in results.Skip(1))
        {
            outcome.Ratios.Add(
                $"{other.Case.Name}: {Report.Ns(other.MedianNsPerOp)} ns vs ours {Report.Ns(ours.MedianNsPerOp)} ns per message = " +
                $"{Report.Ratio(other.MedianNsPerOp / ours.MedianNsPerOp)} ours; allocated {Report.Bytes(other.BytesPerOp)} B vs {Report.Bytes(ours.BytesPerOp)} B per message");
        }

        return outcome;
    }

    private BenchCase MakeCase<TCodec>(string name, bool isBaseline = false)
        where TCodec : struct, IWireCodec
    {
        Check<TCodec>(name);
        var message = _message;
        var operations = _operations;
        if (_decode)
        {
            ReadOnlyMemory<byte> payload = _expected;
            var expectedChannels = _channels?.Length ?? 0;
            return new BenchCase(name, "msg", operations, () => DecodeRound<TCodec>(payload, expectedChannels, operations)) { IsBaseline = isBaseline };
        }

        var buffer = new ArrayBufferWriter<byte>(_expected.Length * 2);
        var length = _expected.Length;
        return _channel is { } channel
            ? new BenchCase(name, "msg", operations, () => EncodeOneRound<TCodec>(message, channel, buffer, length, operations)) { IsBaseline = isBaseline }
            : new BenchCase(name, "msg", operations, () => EncodeGroupRound<TCodec>(message, _channels!, buffer, length, operations)) { IsBaseline = isBaseline };
    }

    /// <summary>Untimed: the codec writes exactly our bytes and reads them back into what ours reads.</summary>
    private void Check<TCodec>(string name)
        where TCodec : struct, IWireCodec
    {
        var buffer = new ArrayBufferWriter<byte>();
        if (_channel is not null)
        {
            TCodec.Encode(_message, _channel, buffer);
        }
        else
        {
            TCodec.Encode(_message, _channels!, buffer);
        }

        if (!buffer.WrittenSpan.SequenceEqual(_expected))
        {
            throw new InvalidOperationException($"Benchmark is broken: {name} wrote other bytes than ours for {_id}.");
        }

        var ours = MessageCodec.Decode(_expected);
        var theirs = TCodec.Decode(_expected);
        if (!MessageValuesCompare.Same(ours.Message, theirs.Message) || ours.Message.Type != theirs.Message.Type
            || !MessageValuesCompare.Same(ours.AsgiChannel, theirs.AsgiChannel))
        {
            throw new InvalidOperationException($"Benchmark is broken: {name} decoded another message than ours for {_id}.");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void EncodeOneRound<TCodec>(ChannelMessage message, string channel, ArrayBufferWriter<byte> buffer, int length, int operations)
        where TCodec : struct, IWireCodec
    {
        for (var i = 0; i < operations; i++)
        {
            buffer.ResetWrittenCount();
            TCodec.Encode(message, channel, buffer);
            if (buffer.WrittenCount != length)
            {
                throw new InvalidOperationException("Benchmark is broken: the encoded length changed.");
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void EncodeGroupRound<TCodec>(ChannelMessage message, string[] channels, ArrayBufferWriter<byte> buffer, int length, int operations)
        where TCodec : struct, IWireCodec
    {
        for (var i = 0; i < operations; i++)
        {
            buffer.ResetWrittenCount();
            TCodec.Encode(message, channels, buffer);
            if (buffer.WrittenCount != length)
            {
                throw new InvalidOperationException("Benchmark is broken: the encoded length changed.");
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void DecodeRound<TCodec>(ReadOnlyMemory<byte> payload, int channels, int operations)
        where TCodec : struct, IWireCodec
    {
        for (var i = 0; i < operations; i++)
        {
            var decoded = TCodec.Decode(payload);
            var ok = decoded.Message.Type.Length == 12 && decoded.Message.Count == 2 && (channels == 0
                ? decoded.AsgiChannel is string
                : decoded.AsgiChannel is string[] names && names.Length == channels);
            if (!ok)
            {
                throw new InvalidOperationException("Benchmark is broken: the decoded message differs.");
            }
        }
    }
}

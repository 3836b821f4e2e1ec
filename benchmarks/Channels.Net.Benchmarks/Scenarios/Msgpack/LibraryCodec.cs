using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using Channels.Net.Layers;
using Channels.Net.Redis.Wire;
using LibReader = MessagePack.MessagePackReader;
using LibWriter = MessagePack.MessagePackWriter;
using WireCode = Channels.Net.Redis.Wire.MessagePackCode;

namespace Channels.Net.Benchmarks.Scenarios.Msgpack;

/// <summary>How the library codec treats strings: the layer's rules, or the library's own behaviour.</summary>
public interface IStringPolicy
{
    /// <summary>Refuse a lone surrogate before writing (ours does; the library writes U+FFFD for it).</summary>
    static abstract bool CheckSurrogates { get; }

    /// <summary>Read strings strictly as ours does (valid UTF-8 only, the two known keys as the same strings);
    /// otherwise with the library's <c>ReadString</c> (invalid UTF-8 becomes U+FFFD, every key a new string).</summary>
    static abstract bool StrictUtf8 { get; }
}

/// <summary>The Redis layer's string rules, as a codec built on the library would need them.</summary>
public readonly struct LayerRules : IStringPolicy
{
    public static bool CheckSurrogates => true;

    public static bool StrictUtf8 => true;
}

/// <summary>The library's own string handling, without the layer's checks (for comparison only: it is not what the layer may do).</summary>
public readonly struct LibraryStrings : IStringPolicy
{
    public static bool CheckSurrogates => false;

    public static bool StrictUtf8 => false;
}

/// <summary>
/// The Redis layer's codec rebuilt on MessagePack-CSharp's low-level <see cref="LibWriter"/> and <see cref="LibReader"/>
/// structs (not its attribute-based serializer): the same job as <see cref="MessageCodec"/>, step for step. Encoding writes
/// the map's entries in order and <c>__asgi_channel__</c> last; decoding builds the same <see cref="ChannelMessage"/>,
/// <see cref="MessageMap"/>, <see cref="MessageList"/>, boxed values and <c>string[]</c> of channel names, with the same
/// checks (depth, repeated keys, strict UTF-8 under <see cref="LayerRules"/>, no ext types, no trailing bytes). Only the
/// reading and writing of MessagePack items is the library's. The type parameter is a struct, so the JIT compiles each
/// policy separately and its constant checks cost nothing.
/// </summary>
internal static class LibraryCodec<TStrings>
    where TStrings : struct, IStringPolicy
{
    private static readonly object BoxedTrue = true;
    private static readonly object BoxedFalse = false;
    private static readonly object[] BoxedSmallIntegers = CreateBoxedSmallIntegers();

    /// <summary>As <see cref="MessageCodec.Encode(MessageMap, string, IBufferWriter{byte})"/>.</summary>
    public static void Encode(MessageMap message, string asgiChannel, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(asgiChannel);
        EncodeCore(message, asgiChannel, output);
    }

    /// <summary>As <see cref="MessageCodec.Encode(MessageMap, IReadOnlyList{string}, IBufferWriter{byte})"/>.</summary>
    public static void Encode(MessageMap message, IReadOnlyList<string> asgiChannels, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(asgiChannels);
        for (var i = 0; i < asgiChannels.Count; i++)
        {
            if (asgiChannels[i] is null)
            {
                throw new ArgumentException($"Channel name {i} of the group send is null.", nameof(asgiChannels));
            }
        }

        EncodeCore(message, asgiChannels, output);
    }

    /// <summary>As <see cref="MessageCodec.EncodeValue"/>; <paramref name="oldSpec"/> sets the writer's option of that name.</summary>
    public static void EncodeValue(object? value, IBufferWriter<byte> output, bool oldSpec = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        var writer = new LibWriter(output) { OldSpec = oldSpec };
        WriteValue(ref writer, value, 0);
        writer.Flush();
    }

    /// <summary>As <see cref="MessageCodec.Decode(ReadOnlySpan{byte})"/>.</summary>
    public static DecodedMessage Decode(ReadOnlyMemory<byte> payload)
    {
        if (payload.IsEmpty)
        {
            throw new WireFormatException("The payload is empty; a channels_redis message is a MessagePack map.");
        }

        KeyValuePair<string, object?>[] entries;
        try
        {
            var reader = new LibReader(payload);
            if (!reader.TryReadMapHeader(out var count))
            {
                throw new WireFormatException(
                    $"A channels_redis message is a MessagePack map, but this payload holds {MessagePackReader.Describe(payload.Span[0])}", 0);
            }

            entries = ReadMapEntries(ref reader, count, 0);
            RequireEnd(ref reader);
        }
        catch (Exception e) when (e is MessagePack.MessagePackSerializationException or EndOfStreamException)
        {
            throw new WireFormatException(e.Message, e);
        }

        string? type = null;
        var reservedIndex = -1;
        for (var i = 0; i < entries.Length; i++)
        {
            var key = entries[i].Key;
            if (key == "type")
            {
                type = entries[i].Value as string
                    ?? throw new WireFormatException($"The message's 'type' must be a string; this one is {MessageValues.Describe(entries[i].Value)}.");
            }
            else if (key == ChannelNames.ReservedMessageKey)
            {
                reservedIndex = i;
            }
        }

        if (type is null)
        {
            throw new WireFormatException("The message has no 'type' key; every channel layer message needs a string 'type'.");
        }

        object? asgiChannel = null;
        if (reservedIndex >= 0)
        {
            asgiChannel = ReadAsgiChannel(entries[reservedIndex].Value);
            var rest = new KeyValuePair<string, object?>[entries.Length - 1];
            entries.AsSpan(0, reservedIndex).CopyTo(rest);
            entries.AsSpan(reservedIndex + 1).CopyTo(rest.AsSpan(reservedIndex));
            entries = rest;
        }

        return new DecodedMessage(ChannelMessage.CreateTrusted(entries, type), asgiChannel);
    }

    /// <summary>As <see cref="MessageCodec.DecodeValue"/>.</summary>
    public static object? DecodeValue(ReadOnlyMemory<byte> payload)
    {
        try
        {
            var reader = new LibReader(payload);
            var value = ReadValue(ref reader, 0);
            RequireEnd(ref reader);
            return value;
        }
        catch (Exception e) when (e is MessagePack.MessagePackSerializationException or EndOfStreamException)
        {
            throw new WireFormatException(e.Message, e);
        }
    }

    private static void EncodeCore(MessageMap message, object asgiChannel, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(output);
        if (message.ContainsKey(ChannelNames.ReservedMessageKey))
        {
            throw new InvalidChannelMessageException(
                $"The message already has the reserved key '{ChannelNames.ReservedMessageKey}'; a layer adds it itself.");
        }

        var writer = new LibWriter(output) { OldSpec = false };
        var entries = message.Entries;
        writer.WriteMapHeader(entries.Length + 1);
        foreach (var entry in entries)
        {
            WriteText(ref writer, entry.Key);
            WriteValue(ref writer, entry.Value, 1);
        }

        WriteText(ref writer, ChannelNames.ReservedMessageKey);
        if (asgiChannel is string channel)
        {
            WriteText(ref writer, channel);
        }
        else
        {
            var channels = (IReadOnlyList<string>)asgiChannel;
            writer.WriteArrayHeader(channels.Count);
            for (var i = 0; i < channels.Count; i++)
            {
                WriteText(ref writer, channels[i]);
            }
        }

        writer.Flush();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteText(ref LibWriter writer, string text)
    {
        if (TStrings.CheckSurrogates)
        {
            RefuseLoneSurrogate(text);
        }

        writer.Write(text);
    }

    private static void WriteValue(ref LibWriter writer, object? value, int depth)
    {
        switch (value)
        {
            case null:
                writer.WriteNil();
                break;
            case string s:
                WriteText(ref writer, s);
                break;
            case long l:
                writer.Write(l);
                break;
            case bool b:
                writer.Write(b);
                break;
            case double d:
                writer.Write(d);
                break;
            case ulong ul:
                writer.Write(ul);
                break;
            case ReadOnlyMemory<byte> bytes:
                writer.Write(bytes.Span);
                break;
            case MessageMap map:
            {
                CheckWriteDepth(depth);
                var entries = map.Entries;
                writer.WriteMapHeader(entries.Length);
                foreach (var entry in entries)
                {
                    WriteText(ref writer, entry.Key);
                    WriteValue(ref writer, entry.Value, depth + 1);
                }

                break;
            }

            case MessageList list:
            {
                CheckWriteDepth(depth);
                var items = list.Items;
                writer.WriteArrayHeader(items.Length);
                foreach (var item in items)
                {
                    WriteValue(ref writer, item, depth + 1);
                }

                break;
            }

            default:
                throw new InvalidChannelMessageException($"A message holds a value of type {value.GetType()}, which is not a message value.");
        }
    }

    /// <summary>What <see cref="MessageCodec"/> refuses with <see cref="global::Channels.Net.Redis.Wire.MessagePackWriter.LoneSurrogateMessage"/>
    /// (the library's UTF-8 encoder would write U+FFFD instead): one vectorised scan, as the codec's own <c>Validate</c> does.</summary>
    private static void RefuseLoneSurrogate(string text)
    {
        var span = text.AsSpan();
        var at = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (at >= 0)
        {
            if (!char.IsHighSurrogate(span[at]) || at + 1 >= span.Length || !char.IsLowSurrogate(span[at + 1]))
            {
                throw new InvalidChannelMessageException(global::Channels.Net.Redis.Wire.MessagePackWriter.LoneSurrogateMessage);
            }

            span = span[(at + 2)..];
            at = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        }
    }

    private static KeyValuePair<string, object?>[] ReadMapEntries(ref LibReader reader, int count, int depth)
    {
        if (count == 0)
        {
            return [];
        }

        var entries = new KeyValuePair<string, object?>[count];
        HashSet<string>? seen = count > 16 ? new HashSet<string>(count, StringComparer.Ordinal) : null;
        for (var i = 0; i < count; i++)
        {
            var key = ReadKey(ref reader);
            var duplicate = false;
            if (seen is not null)
            {
                duplicate = !seen.Add(key);
            }
            else
            {
                for (var j = 0; j < i; j++)
                {
                    if (string.Equals(entries[j].Key, key, StringComparison.Ordinal))
                    {
                        duplicate = true;
                        break;
                    }
                }
            }

            if (duplicate)
            {
                throw new WireFormatException($"A map has the key '{key}' twice; refusing it rather than silently dropping a value");
            }

            entries[i] = new(key, ReadValue(ref reader, depth + 1));
        }

        return entries;
    }

    private static string ReadKey(ref LibReader reader)
    {
        var code = reader.NextCode;
        switch (code)
        {
            case >= WireCode.MinFixStr and <= WireCode.MaxFixStr:
            case WireCode.Str8:
            case WireCode.Str16:
            case WireCode.Str32:
                return TStrings.StrictUtf8 ? KnownKeyOrString(ReadStringBytes(ref reader), "map key") : reader.ReadString()!;
            case WireCode.Bin8:
            case WireCode.Bin16:
            case WireCode.Bin32:
                return KnownKeyOrString(reader.ReadBytes()!.Value.ToArray(), "bytes map key");
            case <= WireCode.MaxPositiveFixInt:
            case >= WireCode.MinNegativeFixInt:
            case >= WireCode.UInt8 and <= WireCode.Int64:
                var number = ReadValue(ref reader, 0);
                return number is ulong big
                    ? big.ToString(CultureInfo.InvariantCulture)
                    : ((long)number!).ToString(CultureInfo.InvariantCulture);
            default:
                throw new WireFormatException($"A map key is {MessagePackReader.Describe(code)}; message keys must be strings");
        }
    }

    private static object? ReadValue(ref LibReader reader, int depth)
    {
        var code = reader.NextCode;
        switch (code)
        {
            case <= WireCode.MaxPositiveFixInt:
            case >= WireCode.MinNegativeFixInt:
                return BoxedSmallIntegers[reader.ReadSByte() + 32];
            case >= WireCode.MinFixMap and <= WireCode.MaxFixMap:
            case WireCode.Map16:
            case WireCode.Map32:
            {
                CheckReadDepth(depth);
                var count = reader.ReadMapHeader();
                return count == 0 ? MessageMap.Empty : new MessageMap(ReadMapEntries(ref reader, count, depth));
            }

            case >= WireCode.MinFixArray and <= WireCode.MaxFixArray:
            case WireCode.Array16:
            case WireCode.Array32:
            {
                CheckReadDepth(depth);
                var count = reader.ReadArrayHeader();
                if (count == 0)
                {
                    return MessageList.Empty;
                }

                var items = new object?[count];
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = ReadValue(ref reader, depth + 1);
                }

                return new MessageList(items);
            }

            case >= WireCode.MinFixStr and <= WireCode.MaxFixStr:
            case WireCode.Str8:
            case WireCode.Str16:
            case WireCode.Str32:
                return TStrings.StrictUtf8 ? DecodeUtf8(ReadStringBytes(ref reader), "string") : reader.ReadString();
            case WireCode.Nil:
                reader.ReadNil();
                return null;
            case WireCode.False:
            case WireCode.True:
                return reader.ReadBoolean() ? BoxedTrue : BoxedFalse;
            case WireCode.Bin8:
            case WireCode.Bin16:
            case WireCode.Bin32:
                return new ReadOnlyMemory<byte>(reader.ReadBytes()!.Value.ToArray());
            case WireCode.Float32:
            case WireCode.Float64:
                return reader.ReadDouble();
            case WireCode.UInt64:
            {
                var value = reader.ReadUInt64();
                return value <= long.MaxValue ? Box((long)value) : value;
            }

            case >= WireCode.UInt8 and <= WireCode.Int64:
                return Box(reader.ReadInt64());
            case >= WireCode.FixExt1 and <= WireCode.FixExt16:
            case WireCode.Ext8:
            case WireCode.Ext16:
            case WireCode.Ext32:
                throw new WireFormatException("Found a MessagePack ext value; messages carry only null, bool, integers, floats, strings, bytes, lists and maps, so ext types are refused");
            default:
                throw new WireFormatException("Found the byte 0xc1, which MessagePack never uses; the payload is not MessagePack");
        }
    }

    /// <summary>A str item's bytes: one span when contiguous (always, for one array), else copied.</summary>
    private static ReadOnlySpan<byte> ReadStringBytes(ref LibReader reader) =>
        reader.TryReadStringSpan(out var span) ? span : reader.ReadStringSequence()!.Value.ToArray();

    private static string KnownKeyOrString(ReadOnlySpan<byte> utf8, string what)
    {
        if (utf8.SequenceEqual("type"u8))
        {
            return "type";
        }

        if (utf8.SequenceEqual("__asgi_channel__"u8))
        {
            return ChannelNames.ReservedMessageKey;
        }

        return DecodeUtf8(utf8, what);
    }

    private static string DecodeUtf8(ReadOnlySpan<byte> utf8, string what)
    {
        if (utf8.IsEmpty)
        {
            return string.Empty;
        }

        if (!Utf8.IsValid(utf8))
        {
            throw new WireFormatException($"A {what} is not valid UTF-8 (Python's strict decoder refuses it too)");
        }

        return Encoding.UTF8.GetString(utf8);
    }

    private static object ReadAsgiChannel(object? value)
    {
        switch (value)
        {
            case string channel:
                return channel;
            case MessageList list:
            {
                var channels = new string[list.Count];
                for (var i = 0; i < channels.Length; i++)
                {
                    channels[i] = list[i] as string
                        ?? throw new WireFormatException($"Item {i} of the message's '{ChannelNames.ReservedMessageKey}' list is {MessageValues.Describe(list[i])}; it must name a channel.");
                }

                return channels;
            }

            default:
                throw new WireFormatException($"The message's '{ChannelNames.ReservedMessageKey}' is {MessageValues.Describe(value)}; channels_redis writes a channel name or a list of them there.");
        }
    }

    private static void RequireEnd(ref LibReader reader)
    {
        if (!reader.End)
        {
            throw new WireFormatException("Bytes follow the end of the message (Python's unpackb refuses this too, with ExtraData)", reader.Consumed);
        }
    }

    private static void CheckReadDepth(int depth)
    {
        if (depth >= MessageCodec.MaxDepth)
        {
            throw new WireFormatException($"Maps and lists nest more than {MessageCodec.MaxDepth} levels deep; messages are refused past that depth");
        }
    }

    private static void CheckWriteDepth(int depth)
    {
        if (depth >= MessageCodec.MaxDepth)
        {
            throw new InvalidChannelMessageException($"The message nests maps and lists more than {MessageCodec.MaxDepth} levels deep; it cannot go on the wire.");
        }
    }

    private static object Box(long value) =>
        value is >= -32 and <= WireCode.MaxPositiveFixInt ? BoxedSmallIntegers[value + 32] : value;

    private static object[] CreateBoxedSmallIntegers()
    {
        var boxes = new object[32 + 128];
        for (var i = 0; i < boxes.Length; i++)
        {
            boxes[i] = (long)(i - 32);
        }

        return boxes;
    }
}

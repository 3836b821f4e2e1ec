using System.Buffers;
using Channels.Net.Layers;

namespace Channels.Net.Redis.Wire;

/// <summary>
/// The MessagePack codec of the Redis layers: turns messages into exactly the bytes that
/// channels_redis writes (<c>msgpack.packb(message, use_bin_type=True)</c> from msgpack-python)
/// and reads whatever such a peer writes.
/// </summary>
/// <remarks>
/// <para><b>Why our own codec and not a MessagePack library.</b> The whole point of the Redis layer
/// is byte-for-byte agreement with Python, and our value model is closed and small (null, bool,
/// <see cref="long"/>/<see cref="ulong"/>, <see cref="double"/>, <see cref="string"/>, bytes,
/// <see cref="MessageList"/>, <see cref="MessageMap"/>): about twenty format bytes. Written here,
/// every encoding choice is visibly msgpack-python's (smallest integer form in its order, float64
/// for every float, str8 allowed, bin for bytes), decoding builds our immutable maps and lists
/// directly instead of going through <c>object</c> dictionaries or a resolver and then being copied,
/// and the hostile-input rules (lengths checked before allocation, a depth limit, one exception
/// type) are ours to state and to fuzz. A general library would add a dependency, a larger attack
/// surface, configuration whose defaults differ from Python's (its own str8 and float32 choices,
/// ext handling, key types), and a copy into our model on every message. Measured against MessagePack-CSharp's low-level
/// <c>MessagePackWriter</c>/<c>MessagePackReader</c> structs (benchmark suite <c>msgpack</c>, benchmarks/README.md): its
/// writer can be made to write these bytes (<c>OldSpec = false</c>), but with the same checks around it neither it nor its
/// reader is faster (see the top of MessagePackWriter.cs and MessagePackReader.cs).</para>
/// <para><b>Encoding.</b> Keys are written in the map's order. <c>__asgi_channel__</c>, when given,
/// is written as the last key, as channels_redis does (<c>message = dict(message.items());
/// message["__asgi_channel__"] = channel</c>): a string for a send to a process-local channel, a
/// list of strings for a group send. Doubles are written with their exact bits (note that .NET's
/// <see cref="double.NaN"/> has the sign bit set, so it is <c>cb fff8…</c> where Python's
/// <c>float("nan")</c> is <c>cb 7ff8…</c>; both read back as NaN on either side). A string with a
/// lone surrogate is refused, as Python refuses it.</para>
/// <para><b>Decoding</b> accepts all that Python may send: every integer width (non-minimal ones
/// too), float32 (read as a double), str and bin of every width. Map keys may be strings; bytes
/// keys (Python <c>{b"k": v}</c>) are read as their UTF-8 text and refused when not UTF-8; integer
/// keys (Python <c>{1: v}</c>) become their decimal text, so <c>{1: "a"}</c> reads as
/// <c>{"1": "a"}</c>. Keys that collide after that (<c>{1: …, "1": …}</c>, or a repeated key) are
/// refused rather than one value being dropped silently. Other key kinds (nil, bool, float, list,
/// map) and ext values (Python's <c>ExtType</c>, <c>Timestamp</c>) are refused. Strings must be
/// valid UTF-8 (<c>raw=False</c> decodes strictly in Python too). Trailing bytes after the message
/// are refused (Python raises <c>ExtraData</c>). Maps and lists may nest at most
/// <see cref="MaxDepth"/> levels, counting the top-level map (Python packs up to 511). All such
/// problems raise <see cref="WireFormatException"/> and nothing else, for any input.</para>
/// </remarks>
internal static class MessageCodec
{
    /// <summary>How many maps and lists may nest, counting the message itself (the same limit as <see cref="ChannelMessage.From"/>).</summary>
    public const int MaxDepth = MessageValues.MaxDepth;

    /// <summary>Writes <paramref name="message"/> (keys in order) to <paramref name="output"/>.</summary>
    /// <exception cref="InvalidChannelMessageException">A value cannot go on the wire (a lone surrogate, nesting too deep).</exception>
    public static void Encode(MessageMap message, IBufferWriter<byte> output) => EncodeCore(message, null, output);

    /// <summary>Writes <paramref name="message"/> with <c>__asgi_channel__</c> = <paramref name="asgiChannel"/> as its last key (a send to a process-local channel).</summary>
    /// <exception cref="InvalidChannelMessageException">The message already has <c>__asgi_channel__</c>, or a value cannot go on the wire.</exception>
    public static void Encode(MessageMap message, string asgiChannel, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(asgiChannel);
        EncodeCore(message, asgiChannel, output);
    }

    /// <summary>Writes <paramref name="message"/> with <c>__asgi_channel__</c> = the list <paramref name="asgiChannels"/> as its last key (a group send).</summary>
    /// <exception cref="InvalidChannelMessageException">The message already has <c>__asgi_channel__</c>, or a value cannot go on the wire.</exception>
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

    /// <summary>The bytes of <paramref name="message"/>, as <see cref="Encode(MessageMap, IBufferWriter{byte})"/> writes them.</summary>
    public static byte[] Encode(MessageMap message)
    {
        using var buffer = new PooledBufferWriter();
        Encode(message, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The bytes of <paramref name="message"/> with <c>__asgi_channel__</c> = <paramref name="asgiChannel"/>.</summary>
    public static byte[] Encode(MessageMap message, string asgiChannel)
    {
        using var buffer = new PooledBufferWriter();
        Encode(message, asgiChannel, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The bytes of <paramref name="message"/> with <c>__asgi_channel__</c> = <paramref name="asgiChannels"/>.</summary>
    public static byte[] Encode(MessageMap message, IReadOnlyList<string> asgiChannels)
    {
        using var buffer = new PooledBufferWriter();
        Encode(message, asgiChannels, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Writes what every member of a group send shares: the map header (counting the
    /// <c>__asgi_channel__</c> entry to come) and the message's entries. Followed by
    /// <see cref="EncodeAsgiChannelList"/>, the bytes are exactly <see cref="Encode(MessageMap, IReadOnlyList{string}, IBufferWriter{byte})"/>'s.
    /// </summary>
    /// <exception cref="InvalidChannelMessageException">The message already has <c>__asgi_channel__</c>, or a value cannot go on the wire.</exception>
    public static void EncodeGroupBody(MessageMap message, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(output);
        RefuseReservedKey(message);
        var writer = new MessagePackWriter(output);
        WriteEntries(ref writer, message, extraEntries: 1);
        writer.Flush();
    }

    /// <summary>
    /// Writes the <c>__asgi_channel__</c> entry of a group send: the key, then the list of channel names,
    /// given as the UTF-8 bytes Redis holds (the caller has checked they are valid channel names, which are ASCII).
    /// </summary>
    public static void EncodeAsgiChannelList(IReadOnlyList<ReadOnlyMemory<byte>> channels, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(output);
        var writer = new MessagePackWriter(output);
        writer.WriteString(ChannelNames.ReservedMessageKey);
        writer.WriteArrayHeader(channels.Count);
        for (var i = 0; i < channels.Count; i++)
        {
            writer.WriteUtf8String(channels[i].Span);
        }

        writer.Flush();
    }

    /// <summary>
    /// Throws what <see cref="Encode(MessageMap, string, IBufferWriter{byte})"/> (with <paramref name="withAsgiChannel"/>)
    /// or <see cref="Encode(MessageMap, IBufferWriter{byte})"/> would throw for <paramref name="message"/>, without
    /// writing it: a message delivered in-process must be refused wherever its trip through Redis would have been.
    /// </summary>
    /// <exception cref="InvalidChannelMessageException">The message cannot go on the wire.</exception>
    public static void Validate(MessageMap message, bool withAsgiChannel)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (withAsgiChannel)
        {
            RefuseReservedKey(message);
        }

        foreach (var entry in message.Entries)
        {
            ValidateText(entry.Key);
            ValidateValue(entry.Value, 1);
        }
    }

    /// <summary>Writes any message value (not only a map) as the top-level item.</summary>
    /// <exception cref="InvalidChannelMessageException">The value is not a message value, or cannot go on the wire.</exception>
    public static void EncodeValue(object? value, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var writer = new MessagePackWriter(output);
        WriteValue(ref writer, value, 0);
        writer.Flush();
    }

    /// <summary>
    /// Reads a channels_redis message: a map with a string <c>type</c>. <c>__asgi_channel__</c>
    /// is taken out of the message and returned beside it.
    /// </summary>
    /// <exception cref="WireFormatException">The bytes are not such a message (see the class remarks).</exception>
    public static DecodedMessage Decode(ReadOnlySpan<byte> payload) => Decode(payload, null);

    /// <summary>
    /// <see cref="Decode(ReadOnlySpan{byte})"/>, where each name in <c>__asgi_channel__</c> is first looked up in
    /// <paramref name="channelNames"/> (the receiver's own channels), so a group message naming many of them makes no string
    /// for those; the result is the same.
    /// </summary>
    public static DecodedMessage Decode(ReadOnlySpan<byte> payload, Utf8NameLookup? channelNames)
    {
        if (payload.IsEmpty)
        {
            throw new WireFormatException("The payload is empty; a channels_redis message is a MessagePack map.");
        }

        var reader = new MessagePackReader(payload, channelNames);
        if (!reader.TryReadMapHeader(out var count))
        {
            throw new WireFormatException(
                $"A channels_redis message is a MessagePack map, but this payload holds {MessagePackReader.Describe(payload[0])}",
                0);
        }

        var entries = reader.ReadMapEntries(count, 0, 0);
        RequireEnd(ref reader);

        string? type = null;
        var reservedIndex = -1;
        for (var i = 0; i < entries.Length; i++)
        {
            var key = entries[i].Key;
            if (key == "type")
            {
                type = entries[i].Value as string
                    ?? throw new WireFormatException(
                        $"The message's 'type' must be a string; this one is {MessageValues.Describe(entries[i].Value)}.");
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

    /// <summary>Reads any single MessagePack value into a message value (a map, list, scalar, …).</summary>
    /// <exception cref="WireFormatException">The bytes are not one valid value.</exception>
    public static object? DecodeValue(ReadOnlySpan<byte> payload)
    {
        var reader = new MessagePackReader(payload);
        var value = reader.ReadValue(0);
        RequireEnd(ref reader);
        return value;
    }

    private static void EncodeCore(MessageMap message, object? asgiChannel, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(output);
        if (asgiChannel is not null)
        {
            RefuseReservedKey(message);
        }

        var writer = new MessagePackWriter(output);
        WriteEntries(ref writer, message, asgiChannel is null ? 0 : 1);

        switch (asgiChannel)
        {
            case null:
                break;
            case string channel:
                writer.WriteString(ChannelNames.ReservedMessageKey);
                writer.WriteString(channel);
                break;
            case IReadOnlyList<string> channels:
                writer.WriteString(ChannelNames.ReservedMessageKey);
                writer.WriteArrayHeader(channels.Count);
                for (var i = 0; i < channels.Count; i++)
                {
                    writer.WriteString(channels[i]);
                }

                break;
        }

        writer.Flush();
    }

    private static void RefuseReservedKey(MessageMap message)
    {
        if (message.ContainsKey(ChannelNames.ReservedMessageKey))
        {
            throw new InvalidChannelMessageException(
                $"The message already has the reserved key '{ChannelNames.ReservedMessageKey}'; a layer adds it itself.");
        }
    }

    /// <summary>The map header (the message's entries plus <paramref name="extraEntries"/>) and the entries.</summary>
    private static void WriteEntries(ref MessagePackWriter writer, MessageMap message, int extraEntries)
    {
        var entries = message.Entries;
        writer.WriteMapHeader(entries.Length + extraEntries);
        foreach (var entry in entries)
        {
            writer.WriteString(entry.Key);
            WriteValue(ref writer, entry.Value, 1);
        }
    }

    /// <summary>What <see cref="WriteValue"/> refuses, found without writing.</summary>
    private static void ValidateValue(object? value, int depth)
    {
        switch (value)
        {
            case null or long or bool or double or ulong or ReadOnlyMemory<byte>:
                break;
            case string s:
                ValidateText(s);
                break;
            case MessageMap map:
                CheckDepth(depth);
                foreach (var entry in map.Entries)
                {
                    ValidateText(entry.Key);
                    ValidateValue(entry.Value, depth + 1);
                }

                break;
            case MessageList list:
                CheckDepth(depth);
                foreach (var item in list.Items)
                {
                    ValidateValue(item, depth + 1);
                }

                break;
            default:
                throw new InvalidChannelMessageException(
                    $"A message holds a value of type {value.GetType()}, which is not a message value (null, bool, long, ulong, double, string, ReadOnlyMemory<byte>, MessageList, MessageMap).");
        }
    }

    /// <summary>Refuses a lone UTF-16 surrogate, as <see cref="MessagePackWriter.WriteString"/> does.</summary>
    private static void ValidateText(string text)
    {
        var span = text.AsSpan();
        var at = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (at >= 0)
        {
            if (!char.IsHighSurrogate(span[at]) || at + 1 >= span.Length || !char.IsLowSurrogate(span[at + 1]))
            {
                throw new InvalidChannelMessageException(MessagePackWriter.LoneSurrogateMessage);
            }

            span = span[(at + 2)..];
            at = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        }
    }

    private static void WriteValue(ref MessagePackWriter writer, object? value, int depth)
    {
        switch (value)
        {
            case null:
                writer.WriteNil();
                break;
            case string s:
                writer.WriteString(s);
                break;
            case long l:
                writer.WriteInt64(l);
                break;
            case bool b:
                writer.WriteBoolean(b);
                break;
            case double d:
                writer.WriteDouble(d);
                break;
            case ulong ul:
                writer.WriteUInt64(ul);
                break;
            case ReadOnlyMemory<byte> bytes:
                writer.WriteBinary(bytes.Span);
                break;
            case MessageMap map:
            {
                CheckDepth(depth);
                var entries = map.Entries;
                writer.WriteMapHeader(entries.Length);
                foreach (var entry in entries)
                {
                    writer.WriteString(entry.Key);
                    WriteValue(ref writer, entry.Value, depth + 1);
                }

                break;
            }

            case MessageList list:
            {
                CheckDepth(depth);
                var items = list.Items;
                writer.WriteArrayHeader(items.Length);
                foreach (var item in items)
                {
                    WriteValue(ref writer, item, depth + 1);
                }

                break;
            }

            default:
                throw new InvalidChannelMessageException(
                    $"A message holds a value of type {value.GetType()}, which is not a message value (null, bool, long, ulong, double, string, ReadOnlyMemory<byte>, MessageList, MessageMap).");
        }
    }

    private static object ReadAsgiChannel(object? value)
    {
        switch (value)
        {
            case string channel:
                return channel;
            case string[] channels:
                return channels; // Read by the name lookup: only strings.
            case MessageList list:
            {
                var channels = new string[list.Count];
                for (var i = 0; i < channels.Length; i++)
                {
                    channels[i] = list[i] as string
                        ?? throw new WireFormatException(
                            $"Item {i} of the message's '{ChannelNames.ReservedMessageKey}' list is {MessageValues.Describe(list[i])}; it must name a channel.");
                }

                return channels;
            }

            default:
                throw new WireFormatException(
                    $"The message's '{ChannelNames.ReservedMessageKey}' is {MessageValues.Describe(value)}; channels_redis writes a channel name or a list of them there.");
        }
    }

    private static void RequireEnd(ref MessagePackReader reader)
    {
        if (!reader.End)
        {
            throw new WireFormatException(
                "Bytes follow the end of the message (Python's unpackb refuses this too, with ExtraData)",
                reader.Position);
        }
    }

    private static void CheckDepth(int depth)
    {
        if (depth >= MaxDepth)
        {
            throw new InvalidChannelMessageException(
                $"The message nests maps and lists more than {MaxDepth} levels deep; it cannot go on the wire.");
        }
    }
}

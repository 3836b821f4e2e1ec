// Why this reader and not MessagePack-CSharp's MessagePack.MessagePackReader (issue 10; measured by the benchmark suite
// "msgpack", benchmarks/README.md, 2026-12-08, MessagePack 2.5.307): decoding a channels_redis message into the same
// ChannelMessage, MessageMap and string[] with the same checks took the library 1.07-1.18x our time (one channel) and
// 1.01-1.13x (100 channel names) in five runs, with the same bytes allocated. Its ReadString turns invalid UTF-8 into
// U+FFFD where Python (and this reader) refuse it, so the strict UTF-8 check, the key rules, the depth limit and the ext
// refusal would stay ours anyway. Slower, and no rule less to keep: ours is kept.

using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using Channels.Net.Layers;

namespace Channels.Net.Redis.Wire;

/// <summary>
/// Reads MessagePack into message values (null, bool, <see cref="long"/> or <see cref="ulong"/>,
/// <see cref="double"/>, <see cref="string"/>, bytes as <see cref="ReadOnlyMemory{T}"/>,
/// <see cref="MessageList"/>, <see cref="MessageMap"/>). Every length is checked against the bytes
/// that remain before anything is allocated, nesting is bounded by <see cref="MessageCodec.MaxDepth"/>,
/// and every problem is a <see cref="WireFormatException"/>.
/// </summary>
internal ref struct MessagePackReader
{
    /// <summary>Maps with more entries than this check for repeated keys with a hash set rather than by scanning.</summary>
    private const int LinearDuplicateCheckLimit = 16;

    private static readonly object BoxedTrue = true;
    private static readonly object BoxedFalse = false;
    private static readonly object[] BoxedSmallIntegers = CreateBoxedSmallIntegers();

    private readonly ReadOnlySpan<byte> _data;
    private readonly Utf8NameLookup? _channelNames;
    private int _position;

    public MessagePackReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    /// <summary>A reader whose top-level <c>__asgi_channel__</c> names are looked up in <paramref name="channelNames"/>
    /// first (a known name is returned as the string it already is, so none is made), and read as text otherwise.</summary>
    public MessagePackReader(ReadOnlySpan<byte> data, Utf8NameLookup? channelNames)
    {
        _data = data;
        _position = 0;
        _channelNames = channelNames;
    }

    /// <summary>Where the next item starts.</summary>
    public readonly int Position => _position;

    /// <summary>True when every byte has been read.</summary>
    public readonly bool End => _position >= _data.Length;

    /// <summary>The format byte of the next item, without reading it.</summary>
    public readonly byte PeekCode()
    {
        if (_position >= _data.Length)
        {
            ThrowTruncated(_position, 1);
        }

        return _data[_position];
    }

    /// <summary>
    /// Reads a map header, or returns false (reading nothing) when the next item is not a map.
    /// The count is checked against the remaining bytes.
    /// </summary>
    public bool TryReadMapHeader(out int count)
    {
        var start = _position;
        var code = PeekCode();
        long length;
        switch (code)
        {
            case >= MessagePackCode.MinFixMap and <= MessagePackCode.MaxFixMap:
                _position++;
                length = code & 0x0f;
                break;
            case MessagePackCode.Map16:
                _position++;
                length = ReadUInt16();
                break;
            case MessagePackCode.Map32:
                _position++;
                length = ReadUInt32();
                break;
            default:
                count = 0;
                return false;
        }

        // Each entry needs at least two bytes (a one-byte key and a one-byte value).
        if (length * 2 > _data.Length - _position)
        {
            throw new WireFormatException(
                $"A map claims {length} entries but only {_data.Length - _position} bytes follow its header; the payload is truncated or corrupt",
                start);
        }

        count = (int)length;
        return true;
    }

    /// <summary>Reads a map key: a string, UTF-8 bytes, or an integer (as its decimal text).</summary>
    public string ReadKey()
    {
        var start = _position;
        var code = PeekCode();
        switch (code)
        {
            case >= MessagePackCode.MinFixStr and <= MessagePackCode.MaxFixStr:
            case MessagePackCode.Str8:
            case MessagePackCode.Str16:
            case MessagePackCode.Str32:
                return KnownKeyOrString(ReadStringBytes(), start, "string");
            case MessagePackCode.Bin8:
            case MessagePackCode.Bin16:
            case MessagePackCode.Bin32:
                // Python sends a bytes key for a dict like {b"type": ...}; raw=False keeps it bytes there.
                return KnownKeyOrString(ReadBinaryBytes(), start, "bytes");
            case <= MessagePackCode.MaxPositiveFixInt:
            case >= MessagePackCode.MinNegativeFixInt:
            case >= MessagePackCode.UInt8 and <= MessagePackCode.Int64:
                // Python packs {1: ...} with an integer key; we carry it as its decimal text.
                var number = ReadValue(0);
                return number is ulong big
                    ? big.ToString(CultureInfo.InvariantCulture)
                    : ((long)number!).ToString(CultureInfo.InvariantCulture);
            default:
                throw new WireFormatException(
                    $"A map key is {Describe(code)}; message keys must be strings (bytes keys are read as UTF-8 and integer keys as their decimal text)",
                    start);
        }
    }

    /// <summary>Reads one value at nesting <paramref name="depth"/> (the top-level item is at 0).</summary>
    public object? ReadValue(int depth)
    {
        var start = _position;
        var code = PeekCode();
        _position++;
        switch (code)
        {
            case <= MessagePackCode.MaxPositiveFixInt:
                return BoxedSmallIntegers[code + 32];
            case >= MessagePackCode.MinNegativeFixInt:
                return BoxedSmallIntegers[(sbyte)code + 32];
            case >= MessagePackCode.MinFixMap and <= MessagePackCode.MaxFixMap:
            case MessagePackCode.Map16:
            case MessagePackCode.Map32:
                _position = start;
                return ReadMap(depth);
            case >= MessagePackCode.MinFixArray and <= MessagePackCode.MaxFixArray:
                return ReadArray(code & 0x0f, depth, start);
            case MessagePackCode.Array16:
                return ReadArray(ReadUInt16(), depth, start);
            case MessagePackCode.Array32:
                return ReadArray(ReadUInt32(), depth, start);
            case >= MessagePackCode.MinFixStr and <= MessagePackCode.MaxFixStr:
            case MessagePackCode.Str8:
            case MessagePackCode.Str16:
            case MessagePackCode.Str32:
                _position = start;
                return DecodeUtf8(ReadStringBytes(), start, "string");
            case MessagePackCode.Nil:
                return null;
            case MessagePackCode.False:
                return BoxedFalse;
            case MessagePackCode.True:
                return BoxedTrue;
            case MessagePackCode.Bin8:
            case MessagePackCode.Bin16:
            case MessagePackCode.Bin32:
                _position = start;
                return new ReadOnlyMemory<byte>(ReadBinaryBytes().ToArray());
            case MessagePackCode.Float32:
                return (double)BinaryPrimitives.ReadSingleBigEndian(Take(4, start));
            case MessagePackCode.Float64:
                return BinaryPrimitives.ReadDoubleBigEndian(Take(8, start));
            case MessagePackCode.UInt8:
                return Box(Take(1, start)[0]);
            case MessagePackCode.UInt16:
                return Box(BinaryPrimitives.ReadUInt16BigEndian(Take(2, start)));
            case MessagePackCode.UInt32:
                return Box(BinaryPrimitives.ReadUInt32BigEndian(Take(4, start)));
            case MessagePackCode.UInt64:
            {
                var value = BinaryPrimitives.ReadUInt64BigEndian(Take(8, start));
                return value <= long.MaxValue ? Box((long)value) : value;
            }

            case MessagePackCode.Int8:
                return Box((sbyte)Take(1, start)[0]);
            case MessagePackCode.Int16:
                return Box(BinaryPrimitives.ReadInt16BigEndian(Take(2, start)));
            case MessagePackCode.Int32:
                return Box(BinaryPrimitives.ReadInt32BigEndian(Take(4, start)));
            case MessagePackCode.Int64:
                return Box(BinaryPrimitives.ReadInt64BigEndian(Take(8, start)));
            case >= MessagePackCode.FixExt1 and <= MessagePackCode.FixExt16:
            case MessagePackCode.Ext8:
            case MessagePackCode.Ext16:
            case MessagePackCode.Ext32:
                _position = start;
                throw ExtError(code, start);
            default:
                throw new WireFormatException("Found the byte 0xc1, which MessagePack never uses; the payload is not MessagePack", start);
        }
    }

    /// <summary>Reads a map at <paramref name="depth"/> into a <see cref="MessageMap"/>.</summary>
    public MessageMap ReadMap(int depth)
    {
        var start = _position;
        CheckDepth(depth, start);
        if (!TryReadMapHeader(out var count))
        {
            throw new WireFormatException($"Expected a map but found {Describe(_data[start])}", start);
        }

        return count == 0 ? MessageMap.Empty : new MessageMap(ReadMapEntries(count, depth, start));
    }

    /// <summary>Reads <paramref name="count"/> entries of a map whose header is already read; keys are checked to be unique.</summary>
    public KeyValuePair<string, object?>[] ReadMapEntries(int count, int depth, int mapStart)
    {
        if (count == 0)
        {
            return [];
        }

        var entries = new KeyValuePair<string, object?>[count];
        HashSet<string>? seen = count > LinearDuplicateCheckLimit ? new HashSet<string>(count, StringComparer.Ordinal) : null;
        for (var i = 0; i < count; i++)
        {
            var keyStart = _position;
            var key = ReadKey();
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
                throw new WireFormatException(
                    $"The map that starts at byte {mapStart} has the key '{Shorten(key)}' twice (after bytes and integer keys are read as text); refusing it rather than silently dropping a value",
                    keyStart);
            }

            entries[i] = new(key, _channelNames is not null && depth == 0 && key == ChannelNames.ReservedMessageKey
                ? ReadAsgiChannelValue(depth + 1)
                : ReadValue(depth + 1));
        }

        return entries;
    }

    /// <summary>
    /// The top-level <c>__asgi_channel__</c> value: a string, or a list of only strings as a <c>string[]</c>, each name
    /// found by the lookup or else read as text. Anything else is read as <see cref="ReadValue"/> reads it, from the start
    /// (so what is refused, and how, is the same).
    /// </summary>
    private object? ReadAsgiChannelValue(int depth)
    {
        var start = _position;
        var code = PeekCode();
        if (IsStr(code))
        {
            return ReadChannelName();
        }

        long count;
        switch (code)
        {
            case >= MessagePackCode.MinFixArray and <= MessagePackCode.MaxFixArray:
                _position++;
                count = code & 0x0f;
                break;
            case MessagePackCode.Array16:
                _position++;
                count = ReadUInt16();
                break;
            case MessagePackCode.Array32:
                _position++;
                count = ReadUInt32();
                break;
            default:
                return ReadValue(depth);
        }

        // Every item takes at least one byte, and each must be a string; otherwise the general reader decides.
        if (depth >= MessageCodec.MaxDepth || count == 0 || count > _data.Length - _position)
        {
            _position = start;
            return ReadValue(depth);
        }

        var names = new string[count];
        for (var i = 0; i < names.Length; i++)
        {
            if (_position >= _data.Length || !IsStr(_data[_position]))
            {
                _position = start;
                return ReadValue(depth);
            }

            names[i] = ReadChannelName();
        }

        return names;
    }

    /// <summary>A str item as a channel name: the known string when the lookup has it, else the text.</summary>
    private string ReadChannelName()
    {
        var start = _position;
        var utf8 = ReadStringBytes();
        return _channelNames!(utf8) ?? DecodeUtf8(utf8, start, "string");
    }

    private static bool IsStr(byte code) =>
        code is (>= MessagePackCode.MinFixStr and <= MessagePackCode.MaxFixStr) or MessagePackCode.Str8 or MessagePackCode.Str16 or MessagePackCode.Str32;

    /// <summary>A description of a format byte for error messages.</summary>
    public static string Describe(byte code) => code switch
    {
        <= MessagePackCode.MaxPositiveFixInt or >= MessagePackCode.MinNegativeFixInt => "an integer",
        >= MessagePackCode.UInt8 and <= MessagePackCode.Int64 => "an integer",
        >= MessagePackCode.MinFixMap and <= MessagePackCode.MaxFixMap or MessagePackCode.Map16 or MessagePackCode.Map32 => "a map",
        >= MessagePackCode.MinFixArray and <= MessagePackCode.MaxFixArray or MessagePackCode.Array16 or MessagePackCode.Array32 => "a list",
        >= MessagePackCode.MinFixStr and <= MessagePackCode.MaxFixStr or MessagePackCode.Str8 or MessagePackCode.Str16 or MessagePackCode.Str32 => "a string",
        MessagePackCode.Nil => "nil (None)",
        MessagePackCode.True or MessagePackCode.False => "a bool",
        MessagePackCode.Bin8 or MessagePackCode.Bin16 or MessagePackCode.Bin32 => "bytes",
        MessagePackCode.Float32 or MessagePackCode.Float64 => "a float",
        >= MessagePackCode.FixExt1 and <= MessagePackCode.FixExt16 or MessagePackCode.Ext8 or MessagePackCode.Ext16 or MessagePackCode.Ext32 => "an ext type",
        _ => "the never-used byte 0xc1",
    };

    private MessageList ReadArray(long count, int depth, int start)
    {
        CheckDepth(depth, start);
        if (count > _data.Length - _position)
        {
            throw new WireFormatException(
                $"A list claims {count} items but only {_data.Length - _position} bytes follow its header; the payload is truncated or corrupt",
                start);
        }

        if (count == 0)
        {
            return MessageList.Empty;
        }

        var items = new object?[count];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = ReadValue(depth + 1);
        }

        return new MessageList(items);
    }

    /// <summary>Reads a str item's header and returns its bytes (not yet validated).</summary>
    private ReadOnlySpan<byte> ReadStringBytes()
    {
        var start = _position;
        var code = _data[_position++];
        long length = code switch
        {
            MessagePackCode.Str8 => Take(1, start)[0],
            MessagePackCode.Str16 => ReadUInt16(),
            MessagePackCode.Str32 => ReadUInt32(),
            _ => code & 0x1f,
        };
        return Take(length, start);
    }

    /// <summary>Reads a bin item's header and returns its bytes.</summary>
    private ReadOnlySpan<byte> ReadBinaryBytes()
    {
        var start = _position;
        var code = _data[_position++];
        long length = code switch
        {
            MessagePackCode.Bin8 => Take(1, start)[0],
            MessagePackCode.Bin16 => ReadUInt16(),
            _ => ReadUInt32(),
        };
        return Take(length, start);
    }

    private ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2, _position - 1));

    private uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4, _position - 1));

    /// <summary>The next <paramref name="length"/> bytes, or a truncation error naming the item that started at <paramref name="itemStart"/>.</summary>
    private ReadOnlySpan<byte> Take(long length, int itemStart)
    {
        if (length > _data.Length - _position)
        {
            ThrowTruncated(itemStart, length);
        }

        var result = _data.Slice(_position, (int)length);
        _position += (int)length;
        return result;
    }

    private readonly WireFormatException ExtError(byte code, int start)
    {
        // Name the ext type code when the bytes are there; Python sends one for msgpack.ExtType or Timestamp values.
        var typeOffset = code switch
        {
            MessagePackCode.Ext8 => 2,
            MessagePackCode.Ext16 => 3,
            MessagePackCode.Ext32 => 5,
            _ => 1,
        };
        var detail = start + typeOffset < _data.Length
            ? $" (ext type {(sbyte)_data[start + typeOffset]}{((sbyte)_data[start + typeOffset] == -1 ? ", a msgpack Timestamp" : "")})"
            : "";
        return new WireFormatException(
            $"Found a MessagePack ext value{detail}; messages carry only null, bool, integers, floats, strings, bytes, lists and maps, so ext types are refused",
            start);
    }

    private static string KnownKeyOrString(ReadOnlySpan<byte> utf8, int start, string kind)
    {
        if (utf8.SequenceEqual("type"u8))
        {
            return "type";
        }

        if (utf8.SequenceEqual("__asgi_channel__"u8))
        {
            return ChannelNames.ReservedMessageKey;
        }

        return DecodeUtf8(utf8, start, kind == "bytes" ? "bytes map key" : "map key");
    }

    private static string DecodeUtf8(ReadOnlySpan<byte> utf8, int start, string what)
    {
        if (utf8.IsEmpty)
        {
            return string.Empty;
        }

        if (!Utf8.IsValid(utf8))
        {
            throw new WireFormatException($"A {what} is not valid UTF-8 (Python's strict decoder refuses it too)", start);
        }

        return Encoding.UTF8.GetString(utf8);
    }

    private static void CheckDepth(int depth, int start)
    {
        if (depth >= MessageCodec.MaxDepth)
        {
            throw new WireFormatException(
                $"Maps and lists nest more than {MessageCodec.MaxDepth} levels deep; messages are refused past that depth",
                start);
        }
    }

    [DoesNotReturn]
    private readonly void ThrowTruncated(int itemStart, long needed) =>
        throw new WireFormatException(
            $"The payload ends inside an item: {needed} more bytes were needed but {Math.Max(0, _data.Length - _position)} remain; it is truncated or corrupt",
            itemStart);

    private static string Shorten(string key) => key.Length <= 64 ? key : string.Concat(key.AsSpan(0, 61), "...");

    private static object Box(long value) =>
        value is >= -32 and <= MessagePackCode.MaxPositiveFixInt ? BoxedSmallIntegers[value + 32] : value;

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

// Why this writer and not MessagePack-CSharp's MessagePack.MessagePackWriter (issue 10; measured by the benchmark suite
// "msgpack", benchmarks/README.md, 2026-12-08, MessagePack 2.5.307): driven with OldSpec = false and Write(double), the
// library writes exactly these bytes for every value tried (81 values and messages at every encoding boundary, all also
// re-packed unchanged by Python's msgpack 1.0.3), but it is not faster: encoding a channels_redis message took it
// 0.93-1.11x our time (one channel) and 0.77-1.21x (100 channel names) in five runs, 0 B allocated on both sides. It also
// writes a lone surrogate as U+FFFD where Python (and this writer) refuse it, so a codec on it must scan every string
// first. No gain, the same checks, three more assemblies: ours is kept.

using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using Channels.Net.Layers;

namespace Channels.Net.Redis.Wire;

/// <summary>
/// Writes MessagePack items exactly as msgpack-python's <c>Packer(use_bin_type=True)</c> does:
/// the smallest integer encoding (its order of choices), float64 for every float, str8 allowed,
/// bin for bytes. Buffers writes in the span it got from the output and commits them on
/// <see cref="Flush"/>.
/// </summary>
internal ref struct MessagePackWriter
{
    /// <summary>Why a string with a lone surrogate is refused.</summary>
    public const string LoneSurrogateMessage =
        "A string in the message holds a lone UTF-16 surrogate, which is not text: Python's msgpack refuses it ('surrogates not allowed'), so it cannot go on the wire.";

    private readonly IBufferWriter<byte> _output;
    private Span<byte> _span;
    private int _buffered;

    public MessagePackWriter(IBufferWriter<byte> output)
    {
        _output = output;
        _span = default;
        _buffered = 0;
    }

    public void WriteNil() => Reserve(1)[0] = MessagePackCode.Nil;

    public void WriteBoolean(bool value) => Reserve(1)[0] = value ? MessagePackCode.True : MessagePackCode.False;

    /// <summary>Writes a signed integer, choosing the encoding msgpack-python chooses for the same int.</summary>
    public void WriteInt64(long value)
    {
        if (value >= 0)
        {
            WriteUInt64((ulong)value);
            return;
        }

        if (value >= -32)
        {
            Reserve(1)[0] = unchecked((byte)(sbyte)value);
        }
        else if (value >= sbyte.MinValue)
        {
            var span = Reserve(2);
            span[0] = MessagePackCode.Int8;
            span[1] = unchecked((byte)(sbyte)value);
        }
        else if (value >= short.MinValue)
        {
            var span = Reserve(3);
            span[0] = MessagePackCode.Int16;
            BinaryPrimitives.WriteInt16BigEndian(span[1..], (short)value);
        }
        else if (value >= int.MinValue)
        {
            var span = Reserve(5);
            span[0] = MessagePackCode.Int32;
            BinaryPrimitives.WriteInt32BigEndian(span[1..], (int)value);
        }
        else
        {
            var span = Reserve(9);
            span[0] = MessagePackCode.Int64;
            BinaryPrimitives.WriteInt64BigEndian(span[1..], value);
        }
    }

    /// <summary>Writes a non-negative integer: positive fixint, uint8, uint16, uint32 or uint64.</summary>
    public void WriteUInt64(ulong value)
    {
        if (value <= MessagePackCode.MaxPositiveFixInt)
        {
            Reserve(1)[0] = (byte)value;
        }
        else if (value <= byte.MaxValue)
        {
            var span = Reserve(2);
            span[0] = MessagePackCode.UInt8;
            span[1] = (byte)value;
        }
        else if (value <= ushort.MaxValue)
        {
            var span = Reserve(3);
            span[0] = MessagePackCode.UInt16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)value);
        }
        else if (value <= uint.MaxValue)
        {
            var span = Reserve(5);
            span[0] = MessagePackCode.UInt32;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)value);
        }
        else
        {
            var span = Reserve(9);
            span[0] = MessagePackCode.UInt64;
            BinaryPrimitives.WriteUInt64BigEndian(span[1..], value);
        }
    }

    /// <summary>Writes float64 (0xcb) with the value's exact IEEE 754 bits, NaN payload and sign included.</summary>
    public void WriteDouble(double value)
    {
        var span = Reserve(9);
        span[0] = MessagePackCode.Float64;
        BinaryPrimitives.WriteInt64BigEndian(span[1..], BitConverter.DoubleToInt64Bits(value));
    }

    /// <summary>
    /// Writes a string as UTF-8 under a fixstr, str8, str16 or str32 header. A lone surrogate is
    /// refused, as Python's strict UTF-8 codec refuses one.
    /// </summary>
    public void WriteString(string value)
    {
        if (value.Length <= 10)
        {
            // At most 30 UTF-8 bytes: always a fixstr, so encode first and fill in the header after.
            var span = Reserve(1 + (value.Length * 3), commit: false);
            var written = EncodeUtf8(value, span[1..]);
            span[0] = (byte)(MessagePackCode.MinFixStr | written);
            Commit(1 + written);
            return;
        }

        var byteCount = Encoding.UTF8.GetByteCount(value);
        var headerLength = StringHeaderLength(byteCount);
        var target = Reserve(headerLength + byteCount, commit: false);
        WriteStringHeader(target, byteCount);
        var count = EncodeUtf8(value, target[headerLength..]);
        if (count != byteCount)
        {
            // EncodeUtf8 throws on invalid text, so the counts can only differ if the string changed under us.
            throw new InvalidOperationException("A string's UTF-8 length changed while it was being written.");
        }

        Commit(headerLength + byteCount);
    }

    /// <summary>
    /// Writes text that is already UTF-8 (a channel name read from Redis) under the header
    /// <see cref="WriteString"/> would choose for it. The caller vouches that the bytes are valid UTF-8.
    /// </summary>
    public void WriteUtf8String(ReadOnlySpan<byte> utf8)
    {
        var headerLength = StringHeaderLength(utf8.Length);
        var target = Reserve(headerLength + utf8.Length);
        WriteStringHeader(target, utf8.Length);
        utf8.CopyTo(target[headerLength..]);
    }

    /// <summary>Writes bytes under a bin8, bin16 or bin32 header.</summary>
    public void WriteBinary(ReadOnlySpan<byte> value)
    {
        var length = value.Length;
        Span<byte> span;
        if (length <= byte.MaxValue)
        {
            span = Reserve(2 + length);
            span[0] = MessagePackCode.Bin8;
            span[1] = (byte)length;
            value.CopyTo(span[2..]);
        }
        else if (length <= ushort.MaxValue)
        {
            span = Reserve(3 + length);
            span[0] = MessagePackCode.Bin16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)length);
            value.CopyTo(span[3..]);
        }
        else
        {
            span = Reserve(5 + length);
            span[0] = MessagePackCode.Bin32;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)length);
            value.CopyTo(span[5..]);
        }
    }

    /// <summary>Writes a fixarray, array16 or array32 header.</summary>
    public void WriteArrayHeader(int count) =>
        WriteContainerHeader(count, MessagePackCode.MinFixArray, MessagePackCode.Array16, MessagePackCode.Array32);

    /// <summary>Writes a fixmap, map16 or map32 header.</summary>
    public void WriteMapHeader(int count) =>
        WriteContainerHeader(count, MessagePackCode.MinFixMap, MessagePackCode.Map16, MessagePackCode.Map32);

    /// <summary>Commits everything buffered to the output.</summary>
    public void Flush()
    {
        if (_buffered > 0)
        {
            _output.Advance(_buffered);
        }

        _buffered = 0;
        _span = default;
    }

    private static int StringHeaderLength(int byteCount) => byteCount switch
    {
        < 32 => 1,
        <= byte.MaxValue => 2,
        <= ushort.MaxValue => 3,
        _ => 5,
    };

    private static void WriteStringHeader(Span<byte> span, int byteCount)
    {
        if (byteCount < 32)
        {
            span[0] = (byte)(MessagePackCode.MinFixStr | byteCount);
        }
        else if (byteCount <= byte.MaxValue)
        {
            span[0] = MessagePackCode.Str8;
            span[1] = (byte)byteCount;
        }
        else if (byteCount <= ushort.MaxValue)
        {
            span[0] = MessagePackCode.Str16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)byteCount);
        }
        else
        {
            span[0] = MessagePackCode.Str32;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)byteCount);
        }
    }

    private static int EncodeUtf8(string value, Span<byte> destination)
    {
        var status = Utf8.FromUtf16(value, destination, out _, out var written, replaceInvalidSequences: false);
        if (status != OperationStatus.Done)
        {
            throw new InvalidChannelMessageException(LoneSurrogateMessage);
        }

        return written;
    }

    private void WriteContainerHeader(int count, byte fixCode, byte code16, byte code32)
    {
        if (count < 16)
        {
            Reserve(1)[0] = (byte)(fixCode | count);
        }
        else if (count <= ushort.MaxValue)
        {
            var span = Reserve(3);
            span[0] = code16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)count);
        }
        else
        {
            var span = Reserve(5);
            span[0] = code32;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)count);
        }
    }

    /// <summary>A span of exactly <paramref name="size"/> bytes, counted as written unless <paramref name="commit"/> is false.</summary>
    private Span<byte> Reserve(int size, bool commit = true)
    {
        if (_span.Length - _buffered < size)
        {
            Flush();
            _span = _output.GetSpan(Math.Max(size, 512));
            if (_span.Length < size)
            {
                throw new InvalidOperationException($"The output buffer gave {_span.Length} bytes when {size} were asked for.");
            }
        }

        var result = _span.Slice(_buffered, size);
        if (commit)
        {
            _buffered += size;
        }

        return result;
    }

    private void Commit(int size) => _buffered += size;
}

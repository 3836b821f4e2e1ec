using System.Buffers;

namespace Channels.Net.Redis.Wire;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> of bytes over arrays rented from <see cref="ArrayPool{T}.Shared"/>;
/// <see cref="Dispose"/> returns the array (cleared, since it may have held plaintext).
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int MinimumSize = 256;

    private byte[] _buffer;
    private int _written;

    public PooledBufferWriter(int initialCapacity = MinimumSize)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, MinimumSize));
    }

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    /// <summary>How many bytes have been written.</summary>
    public int WrittenCount => _written;

    /// <inheritdoc />
    public void Advance(int count)
    {
        if (count < 0 || count > _buffer.Length - _written)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "Cannot advance past the end of the buffer.");
        }

        _written += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Hands the written bytes and their array over to the caller, who returns the array; the writer must not be used afterwards.</summary>
    public RentedBytes Detach()
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        var rented = new RentedBytes(_buffer, _written);
        _buffer = [];
        _written = 0;
        return rented;
    }

    /// <summary>Returns the array to the pool; the writer must not be used afterwards.</summary>
    public void Dispose()
    {
        var buffer = _buffer;
        if (buffer.Length == 0)
        {
            return;
        }

        _buffer = [];
        buffer.AsSpan(0, _written).Clear();
        _written = 0;
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private void Ensure(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        if (sizeHint < 1)
        {
            sizeHint = 1;
        }

        if (_buffer.Length - _written >= sizeHint)
        {
            return;
        }

        var needed = (long)_written + sizeHint;
        var size = Math.Max(needed, Math.Min((long)_buffer.Length * 2, Array.MaxLength));
        if (size > Array.MaxLength)
        {
            throw new OutOfMemoryException($"A message buffer cannot grow past {Array.MaxLength} bytes.");
        }

        var next = ArrayPool<byte>.Shared.Rent((int)size);
        _buffer.AsSpan(0, _written).CopyTo(next);
        _buffer.AsSpan(0, _written).Clear();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = next;
    }
}

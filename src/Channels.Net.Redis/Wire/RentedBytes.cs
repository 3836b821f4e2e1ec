using System.Buffers;

namespace Channels.Net.Redis.Wire;

/// <summary>
/// Bytes in an array rented from <see cref="ArrayPool{T}.Shared"/>: a sorted-set member on its way to Redis.
/// <see cref="Return"/> it once Redis has answered the command that carries it; after a failed command,
/// drop it instead (the client may still hold it), and the garbage collector takes it.
/// </summary>
internal readonly struct RentedBytes
{
    private readonly byte[] _array;

    public RentedBytes(byte[] array, int length)
    {
        _array = array;
        Length = length;
    }

    /// <summary>How many bytes are in use.</summary>
    public int Length { get; }

    /// <summary>The bytes in use.</summary>
    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, Length);

    /// <summary>The bytes in use.</summary>
    public ReadOnlySpan<byte> Span => _array.AsSpan(0, Length);

    /// <summary>Clears the bytes (they may be a plain message) and gives the array back to the pool.</summary>
    public void Return()
    {
        if (_array is { Length: > 0 })
        {
            _array.AsSpan(0, Length).Clear();
            ArrayPool<byte>.Shared.Return(_array);
        }
    }
}

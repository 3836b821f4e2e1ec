using System.Text;

namespace Channels.Net.Redis.Sharding;

/// <summary>
/// channels_redis's ring: <c>int((crc32(utf8(value)) &amp; 0xFFF) / (4096 / n))</c> with zlib's CRC-32,
/// 0 when there is one host. Groups hash the group name; process-local keys hash the non-local name.
/// </summary>
public static class ConsistentHash
{
    private static readonly uint[] s_table = BuildTable();

    /// <summary>The index in [0, <paramref name="ringSize"/>) of the host for <paramref name="value"/>.</summary>
    public static int Index(string value, int ringSize)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfLessThan(ringSize, 1);
        if (ringSize == 1)
        {
            return 0;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        Span<byte> bytes = length <= 256 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(value, bytes);
        var big = Crc32(bytes) & 0xFFF;
        return (int)(big / (4096 / (double)ringSize));
    }

    /// <summary>zlib's CRC-32 (Python's <c>binascii.crc32</c>).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = s_table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}

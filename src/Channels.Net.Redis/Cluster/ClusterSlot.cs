using StackExchange.Redis;

namespace Channels.Net.Redis.Cluster;

/// <summary>
/// The Redis Cluster hash slot of a key, as the server computes it (<c>CLUSTER KEYSLOT</c>): CRC16
/// (XMODEM) of the key, or of its hash tag (the bytes between the first <c>{</c> and the next
/// <c>}</c>, when not empty), modulo 16384. Needed without a connection: the receive pumps are per slot.
/// </summary>
internal static class ClusterSlot
{
    /// <summary>The number of hash slots of a cluster.</summary>
    public const int Count = 16384;

    private static readonly ushort[] s_table = BuildTable();

    /// <summary>The slot of <paramref name="key"/>.</summary>
    public static int Of(RedisKey key) => Of(((byte[]?)key ?? []).AsSpan());

    /// <summary>The slot of the key whose bytes are <paramref name="key"/>.</summary>
    public static int Of(ReadOnlySpan<byte> key)
    {
        var open = key.IndexOf((byte)'{');
        if (open >= 0)
        {
            var close = key[(open + 1)..].IndexOf((byte)'}');
            if (close > 0)
            {
                key = key.Slice(open + 1, close);
            }
        }

        ushort crc = 0;
        foreach (var b in key)
        {
            crc = (ushort)((crc << 8) ^ s_table[((crc >> 8) ^ b) & 0xFF]);
        }

        return crc & (Count - 1);
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var crc = (ushort)(i << 8);
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
            }

            table[i] = crc;
        }

        return table;
    }
}

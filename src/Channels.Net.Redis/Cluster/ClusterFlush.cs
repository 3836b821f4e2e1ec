using StackExchange.Redis;

namespace Channels.Net.Redis.Cluster;

/// <summary>
/// flush on a Redis Cluster: channels_redis's <c>KEYS prefix*</c> then <c>DEL</c> cannot be one script
/// there (a script touches one slot, and <c>KEYS</c> sees one node). The slot map is read again, every
/// primary that serves slots is scanned for the prefix's keys, and they are deleted with one <c>DEL</c>
/// per slot (in chunks of 5000, as channels_redis deletes), pipelined.
/// </summary>
internal static class ClusterFlush
{
    private const int Chunk = 5000;

    /// <summary>Deletes every key matching <paramref name="pattern"/>; returns how many were deleted.</summary>
    /// <exception cref="RedisConnectionException">No node is connected, or a primary could not be scanned.</exception>
    public static async Task<long> FlushAsync(IDatabase database, string pattern)
    {
        var multiplexer = (ConnectionMultiplexer)database.Multiplexer;
        await multiplexer.ConfigureAsync().ConfigureAwait(false);
        var nodes = multiplexer.GetServers().FirstOrDefault(static s => s.IsConnected && s.ClusterConfiguration is not null)?.ClusterConfiguration
            ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "No node of the cluster is connected.");

        var deletes = new List<Task<long>>();
        foreach (var node in nodes.Nodes)
        {
            if (node.IsReplica || node.Slots.Count == 0 || node.EndPoint is null)
            {
                continue;
            }

            var bySlot = new Dictionary<int, List<RedisKey>>();
            var server = multiplexer.GetServer(node.EndPoint);
            await foreach (var key in server.KeysAsync(database.Database, pattern, pageSize: 1000).ConfigureAwait(false))
            {
                var slot = ClusterSlot.Of(key);
                if (!bySlot.TryGetValue(slot, out var keys))
                {
                    bySlot[slot] = keys = [];
                }

                keys.Add(key);
            }

            foreach (var keys in bySlot.Values)
            {
                foreach (var chunk in keys.Chunk(Chunk))
                {
                    deletes.Add(database.KeyDeleteAsync(chunk));
                }
            }
        }

        var deleted = 0L;
        foreach (var delete in deletes)
        {
            deleted += await delete.ConfigureAwait(false);
        }

        return deleted;
    }
}

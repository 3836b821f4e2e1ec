using StackExchange.Redis;

namespace Channels.Net.Redis.Cluster;

/// <summary>
/// Checks, once connected, that the servers are what <see cref="RedisChannelLayerOptions.Cluster"/>
/// says: a layer not configured for a cluster would send scripts over keys of several slots
/// (<c>CROSSSLOT</c>) and shard by channels_redis's ring on top of the cluster's own.
/// </summary>
internal static class ClusterMode
{
    /// <summary>
    /// Null while nothing is connected yet (the check is repeated later); otherwise true when the
    /// servers match, or an <see cref="InvalidOperationException"/> naming the mismatch.
    /// </summary>
    public static bool? Check(IConnectionMultiplexer multiplexer, bool cluster, string host)
    {
        foreach (var server in multiplexer.GetServers())
        {
            if (!server.IsConnected)
            {
                continue;
            }

            var isCluster = server.ServerType == ServerType.Cluster;
            if (cluster && !isCluster)
            {
                throw new InvalidOperationException($"The Redis layer is configured with Cluster, but {host} ({server.EndPoint}) is a {server.ServerType} server, not a cluster node (cluster-enabled yes). Remove Cluster to use it as channels_redis does.");
            }

            if (!cluster && isCluster)
            {
                throw new InvalidOperationException($"{host} ({server.EndPoint}) is a node of a Redis Cluster, but the Redis layer is not configured for one: set Cluster (ChannelLayers:<alias>:Cluster=true) and list the cluster's nodes in Hosts as seeds. channels_redis's sharding over several hosts cannot be combined with a cluster.");
            }

            return true;
        }

        return null;
    }
}

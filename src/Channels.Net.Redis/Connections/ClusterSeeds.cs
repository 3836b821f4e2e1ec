using StackExchange.Redis;

namespace Channels.Net.Redis.Connections;

/// <summary>
/// <see cref="RedisChannelLayerOptions.Hosts"/> as the seed nodes of one Redis Cluster: one
/// StackExchange.Redis configuration with every seed's address (it discovers the other nodes, routes
/// each command by its key's slot and follows <c>MOVED</c>/<c>ASK</c>).
/// </summary>
internal static class ClusterSeeds
{
    /// <summary>Throws <see cref="ArgumentException"/> (parameter <c>Hosts</c>) when the hosts cannot be seeds of one cluster.</summary>
    public static void Validate(IList<RedisHost> hosts)
    {
        ConfigurationOptions? first = null;
        RedisHost? firstHost = null;
        foreach (var host in hosts)
        {
            if (host.MasterName is not null)
            {
                throw new ArgumentException($"With Cluster set, every entry of Hosts is a seed node of the cluster; {host} is a Sentinel master (Sentinel and Cluster are different deployments).", "Hosts");
            }

            var (options, database) = RedisAddress.ToConfiguration(host);
            if (database != 0)
            {
                throw new ArgumentException($"Redis Cluster has only database 0, but {host} names database {database}.", "Hosts");
            }

            if (first is null)
            {
                first = options;
                firstHost = host;
            }
            else if (options.Password != first.Password || options.User != first.User || options.Ssl != first.Ssl)
            {
                throw new ArgumentException($"The seed nodes of one cluster share their user, password and TLS setting; {host} differs from {firstHost}.", "Hosts");
            }
        }
    }

    /// <summary>Adds the addresses of every seed after the first (whose configuration <paramref name="options"/> is) to it.</summary>
    public static void AddOtherSeeds(ConfigurationOptions options, IReadOnlyList<RedisHost> seeds)
    {
        for (var i = 1; i < seeds.Count; i++)
        {
            foreach (var endPoint in RedisAddress.ToConfiguration(seeds[i]).Options.EndPoints)
            {
                options.EndPoints.Add(endPoint);
            }
        }
    }
}

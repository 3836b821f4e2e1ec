namespace Channels.Net.Redis.Tests.Cluster;

/// <summary>
/// One six-node cluster shared by every cluster test class, which run one after another (some kill
/// nodes or move slots; each leaves the cluster healthy again).
/// </summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<RedisCluster>
{
    public const string Name = "Redis Cluster";
}

using StackExchange.Redis;
using Channels.Net.Redis.Connections;

namespace Channels.Net.Redis.Tests.Sentinel;

/// <summary>Which failures the layer reports as "unavailable" (a failover or outage) rather than as a bug.</summary>
public sealed class UnavailableReplyTests
{
    [Theory]
    [InlineData("READONLY You can't write against a read only replica. script: 1298a004669397449ff17fa84f16cd3bbf02024e, on @user_script:1.", true)]
    [InlineData("READONLY You can't write against a read only replica.", true)]
    [InlineData("UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)", true)]
    [InlineData("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", true)]
    [InlineData("LOADING Redis is loading the dataset in memory", true)]
    [InlineData("NOREPLICAS Not enough good replicas to write.", true)]
    [InlineData("ERR Error running script (call to f_x): @user_script:1: Script attempted to access nonexistent global variable 'y'", false)]
    [InlineData("WRONGTYPE Operation against a key holding the wrong kind of value", false)]
    public void Server_replies(string reply, bool unavailable) =>
        Assert.Equal(unavailable, RedisShard.IsUnavailable(new RedisServerException(RedisErrorKind.Unknown, CommandFlags.None, reply)));

    [Fact]
    public void Connection_failures_and_timeouts_are_unavailable_and_other_errors_are_not()
    {
        Assert.True(RedisShard.IsUnavailable(new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "down")));
        Assert.True(RedisShard.IsUnavailable(new RedisTimeoutException(CommandFlags.None, "slow", CommandStatus.Sent)));
        Assert.False(RedisShard.IsUnavailable(new InvalidOperationException("bug")));
        Assert.False(RedisShard.IsUnavailable(new ObjectDisposedException("layer")));
    }
}

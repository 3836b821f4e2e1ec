using Channels.Net.Interop.Tests.Infrastructure;
using Channels.Net.Redis.Sharding;
using Channels.Net.Testing.Conformance;
using StackExchange.Redis;

namespace Channels.Net.Interop.Tests.PubSub;

/// <summary>Two Redis hosts: both layers put every channel and group on the host the CRC-32 of its Redis
/// channel name picks (channels_redis's <c>_consistent_hash</c>), so they find each other's subscriptions.</summary>
[Collection(InteropCollection.Name)]
public sealed class PubSubShardingTests(InteropEnvironment env)
{
    public static TheoryData<Direction> Directions => [Direction.DotNetToPython, Direction.PythonToDotNet];

    [Theory]
    [MemberData(nameof(Directions))]
    public async Task Channels_and_groups_are_found_on_the_host_both_implementations_hash_them_to(Direction direction)
    {
        var second = new RedisServer();
        await second.InitializeAsync();
        try
        {
            await using var secondInspector = await second.ConnectAsync();
            IServer[] servers = [env.InspectServer, secondInspector.GetServer(secondInspector.GetEndPoints()[0])];
            string[] hosts = [env.Redis.Url, second.Url];
            IServer HostOf(string redisChannel) => servers[ConsistentHash.Index(redisChannel, 2)];

            var prefix = InteropEnvironment.NewPrefix();
            await using var dotNet = env.CreateDotNetPubSub(prefix, hosts);
            await using var python = await env.CreatePythonPubSubAsync(prefix, hosts, HostOf);
            IPubSubSide sender = direction == Direction.DotNetToPython ? dotNet : python;
            IPubSubSide receiver = direction == Direction.DotNetToPython ? python : dotNet;

            var used = new HashSet<int>();
            for (var i = 0; i < 10; i++)
            {
                // The Python side waits for each subscription on the host we expect; the .NET side is checked here.
                var channel = await receiver.NewChannelAsync();
                await PubSubEnvironment.WaitForSubscribersAsync(HostOf(channel), channel, 1);
                var group = $"room-{i}";
                var groupChannel = prefix + "__group__" + group;
                await receiver.GroupAddAsync(group, channel);
                await PubSubEnvironment.WaitForSubscribersAsync(HostOf(groupChannel), groupChannel, 1);
                used.Add(ConsistentHash.Index(channel, 2));
                used.Add(ConsistentHash.Index(groupChannel, 2));

                var direct = Messages.Of("direct", ("i", (long)i));
                var toGroup = Messages.Of("group", ("i", (long)i));
                await sender.SendOkAsync(channel, direct);
                MessageAssert.Equal(direct, await receiver.ReceiveAsync(channel));
                await sender.GroupSendAsync(group, toGroup);
                MessageAssert.Equal(toGroup, await receiver.ReceiveAsync(channel));
            }

            Assert.Equal(new[] { 0, 1 }, used.Order()); // both hosts were used
        }
        finally
        {
            await second.DisposeAsync();
        }
    }
}

using Channels.Net.Interop.Tests.Infrastructure;
using StackExchange.Redis;

namespace Channels.Net.Interop.Tests.PubSub;

/// <summary>What each pub/sub layer publishes, byte for byte, as a third client subscribed to the same Redis channels sees it.</summary>
[Collection(InteropCollection.Name)]
public sealed class PubSubWireTests(InteropEnvironment env)
{
    [Fact]
    public async Task Both_layers_publish_the_same_bytes_on_the_same_redis_channels_plain_msgpack_packb()
    {
        await using var pair = await env.CreatePubSubPairAsync(Direction.DotNetToPython);
        var message = ValueKindsTests.AllKinds();
        var channel = "wire-" + Guid.NewGuid().ToString("N")[..8];
        var group = "wire-room";
        var groupChannel = pair.GroupChannel(group);
        var captured = new System.Collections.Concurrent.ConcurrentQueue<(string Channel, byte[] Payload)>();
        var subscriber = (await env.Redis.ConnectAsync()).GetSubscriber();
        try
        {
            foreach (var name in new[] { channel, groupChannel })
            {
                await subscriber.SubscribeAsync(RedisChannel.Literal(name), (c, v) => captured.Enqueue(((string)c!, (byte[])v!)));
            }

            await pair.DotNet.SendOkAsync(channel, message);
            await pair.Python.SendOkAsync(channel, message);
            await pair.DotNet.GroupSendAsync(group, message);
            await pair.Python.GroupSendAsync(group, message);

            var deadline = DateTime.UtcNow + InteropEnvironment.Timeout;
            while (captured.Count < 4)
            {
                Assert.True(DateTime.UtcNow < deadline, $"Only {captured.Count} of 4 publishes were seen.");
                await Task.Delay(20);
            }

            // msgpack.packb(message): no random prefix, no encryption, no __asgi_channel__.
            var packb = await env.Peer.PackbAsync(message);
            var seen = captured.ToArray();
            Assert.Equal(2, seen.Count(s => s.Channel == channel));      // send: on the channel's own name
            Assert.Equal(2, seen.Count(s => s.Channel == groupChannel)); // group_send: on {prefix}__group__{group}
            Assert.All(seen, s => Assert.Equal(packb, s.Payload));
        }
        finally
        {
            await subscriber.Multiplexer.DisposeAsync();
        }
    }
}

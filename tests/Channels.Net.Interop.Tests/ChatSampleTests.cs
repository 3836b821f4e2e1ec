using Channels.Net.Interop.Tests.Infrastructure;

namespace Channels.Net.Interop.Tests;

/// <summary>How both chat servers are configured.</summary>
public enum ChatSetup
{
    /// <summary>The core layer, no keys, the sample configured as its README says (<c>Backend=Redis</c>,
    /// <c>Hosts:0</c>, <c>Prefix</c>), database 0.</summary>
    Core,

    /// <summary>The core layer with keys mid-rotation (Django <c>["new", "old"]</c>, .NET <c>["old", "new"]</c>),
    /// the sample configured as settings.py reads (<c>channels_redis.core.RedisChannelLayer</c>, <c>hosts</c>,
    /// <c>prefix</c>, <c>symmetric_encryption_keys</c>), database 1 (so both must honour the URL's database).</summary>
    CoreEncrypted,

    /// <summary>The pub/sub layer: Django <c>channels_redis.pubsub.RedisPubSubChannelLayer</c>, the sample
    /// <c>Backend=RedisPubSub</c> with <c>Hosts:0</c> and <c>Prefix</c>.</summary>
    PubSub,

    /// <summary>The pub/sub layer, the sample configured as settings.py reads
    /// (<c>channels_redis.pubsub.RedisPubSubChannelLayer</c>, <c>hosts</c>, <c>prefix</c>), database 1
    /// (pub/sub ignores it: the room is shared all the same).</summary>
    PubSubDjangoStyle,
}

/// <summary>
/// The tutorial's chat twice on one Redis: the Django project under daphne and samples/Chat on
/// Kestrel. A client of each in the same room sees what either one types; another room sees nothing.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class ChatSampleTests(InteropEnvironment env)
{
    public static TheoryData<ChatSetup> Setups => [.. Enum.GetValues<ChatSetup>()];

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task A_django_client_and_a_dotnet_client_in_one_room_chat_with_each_other(ChatSetup setup)
    {
        var database1 = env.Redis.Url[..^1] + "1";
        var layer = setup switch
        {
            ChatSetup.Core => new ChatLayer(env.Redis.Url, InteropEnvironment.NewPrefix()),
            ChatSetup.CoreEncrypted => new ChatLayer(database1, InteropEnvironment.NewPrefix(), ["chat key new", "chat key old"], ["chat key old", "chat key new"], DjangoStyleConfig: true),
            ChatSetup.PubSub => new ChatLayer(env.Redis.Url, InteropEnvironment.NewPrefix(), PubSub: true),
            _ => new ChatLayer(database1, InteropEnvironment.NewPrefix(), DjangoStyleConfig: true, PubSub: true),
        };
        var (dotNet, daphne) = await ChatPair.StartAsync(layer);
        await using (dotNet)
        await using (daphne)
        {
            var sockets = new List<System.Net.WebSockets.ClientWebSocket>();
            try
            {
                var room = "lobby-" + Guid.NewGuid().ToString("N")[..8];
                var django = await Open(daphne, room);
                var kestrel = await Open(dotNet, room);
                var djangoElsewhere = await Open(daphne, room + "-other");
                var kestrelElsewhere = await Open(dotNet, room + "-other");

                await django.SendTextAsync("hello from Django 你好 🎉");
                Assert.Equal("hello from Django 你好 🎉", await django.ReceiveTextAsync());
                Assert.Equal("hello from Django 你好 🎉", await kestrel.ReceiveTextAsync());

                await kestrel.SendTextAsync("hello from .NET <b>ok</b>");
                Assert.Equal("hello from .NET <b>ok</b>", await kestrel.ReceiveTextAsync());
                Assert.Equal("hello from .NET <b>ok</b>", await django.ReceiveTextAsync());

                // The other room got neither: its first message is its own.
                await kestrelElsewhere.SendTextAsync("other room");
                Assert.Equal("other room", await djangoElsewhere.ReceiveTextAsync());
                Assert.Equal("other room", await kestrelElsewhere.ReceiveTextAsync());

                var groupKey = $"{layer.Prefix}:group:{room}";
                if (layer.PubSub)
                {
                    // The room is the Redis channel {prefix}__group__{room}, subscribed once by each server; nothing is stored.
                    await PubSubEnvironment.WaitForSubscribersAsync(env.InspectServer, $"{layer.Prefix}__group__{room}", 2);
                    Assert.Empty(env.KeysUnder(layer.Prefix));
                }
                else
                {
                    // The room's group holds one member of each server, in the database the URL names.
                    var encrypted = setup == ChatSetup.CoreEncrypted;
                    Assert.Equal(2, await env.InspectDatabase(encrypted ? 1 : 0).SortedSetLengthAsync(groupKey));
                    Assert.False(await env.InspectDatabase(encrypted ? 0 : 1).KeyExistsAsync(groupKey));
                }
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                throw new InvalidOperationException($"The chat failed; daphne's output:{Environment.NewLine}{daphne.Output}", ex);
            }
            finally
            {
                foreach (var ws in sockets)
                {
                    await ws.CloseQuietlyAsync();
                }
            }

            async Task<System.Net.WebSockets.ClientWebSocket> Open(IChatServer server, string room)
            {
                var ws = await server.ConnectAsync(room);
                sockets.Add(ws);
                return ws;
            }
        }
    }
}

using Channels.Net.Routing;
using Microsoft.AspNetCore.Builder;
using static Channels.Net.Consumers.ConsumerApplications;
using static Channels.Net.Routing.Routes;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>The tutorial's routing file (kept alone: <c>using static Routes</c> hides System.IO.Path).</summary>
internal static class ChatRouting
{
    /// <summary>The room URL the clients connect to, relative to the server's base address.</summary>
    public static string RoomPath(string room) => $"ws/chat/{room}/";

    public static void Map(WebApplication app) =>
        app.MapChannels(new UrlRouter(
            RePath(@"^ws/chat/(?P<room>[\w-]+)/$", Consumer<ChatConsumer>())));
}

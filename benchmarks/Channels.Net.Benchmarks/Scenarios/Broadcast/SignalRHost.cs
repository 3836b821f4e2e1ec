using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// The SignalR room server's set-up: <see cref="ChatHub"/> with <c>AddSignalR()</c>'s defaults (JSON protocol); with a
/// Redis URL, also its Redis backplane (<c>AddStackExchangeRedis</c>, defaults: no channel prefix), so that servers
/// sharing one Redis share the room's group.
/// </summary>
internal static class SignalRHost
{
    public static void AddServices(IServiceCollection services, string? redisUrl)
    {
        var signalR = services.AddSignalR();
        if (redisUrl is not null)
        {
            var uri = new Uri(redisUrl);
            signalR.AddStackExchangeRedis($"{uri.Host}:{uri.Port}");
        }
    }

    public static void Map(WebApplication app) => app.MapHub<ChatHub>("/" + ChatHub.Path);
}

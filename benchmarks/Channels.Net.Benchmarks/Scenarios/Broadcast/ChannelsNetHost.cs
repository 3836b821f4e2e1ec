using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Channels.Net.Benchmarks.Scenarios.Broadcast;

/// <summary>
/// The Channels.Net room server's set-up: <see cref="ChatConsumer"/> routed as in the tutorial, on one of three
/// channel layers, each on its defaults (<c>ChannelsOptions</c> untouched):
/// the in-memory layer (capacity 100, Django's, unless the suite runs its "tuned" variant with another capacity),
/// <c>RedisChannelLayer</c> or <c>RedisPubSubChannelLayer</c>, configured as a settings.py would (backend and host only).
/// </summary>
internal static class ChannelsNetHost
{
    public static void AddServices(IServiceCollection services, BroadcastFramework framework, int? capacity, string? redisUrl)
    {
        if (framework == BroadcastFramework.ChannelsNet)
        {
            services.AddChannels(c => c.AddInMemoryLayer(configure: capacity is { } n ? o => o.Capacity = n : null));
            return;
        }

        var backend = framework == BroadcastFramework.ChannelsNetPubSub ? "RedisPubSub" : "Redis";
        var layers = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["default:Backend"] = backend,
                ["default:Config:Hosts:0"] = redisUrl ?? throw new ArgumentNullException(nameof(redisUrl), $"The {backend} layer needs a Redis URL."),
            })
            .Build();
        services.AddChannels(layers);
    }

    public static void Map(WebApplication app) => ChatRouting.Map(app);
}

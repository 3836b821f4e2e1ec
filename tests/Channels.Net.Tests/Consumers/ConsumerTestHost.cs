using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Channels.Net.Tests.Consumers;

/// <summary>A private container with an in-memory default layer per test.</summary>
public sealed class ConsumerTestHost : IAsyncDisposable
{
    public ConsumerTestHost(bool withLayer = true, Action<IServiceCollection>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        if (withLayer)
        {
            services.AddChannels(c => c.AddInMemoryLayer());
        }
        else
        {
            services.AddChannels();
        }

        configure?.Invoke(services);
        Services = services.BuildServiceProvider();
    }

    public ServiceProvider Services { get; }

    public IChannelLayer Layer => Services.GetRequiredService<IChannelLayerManager>().GetLayer();

    public ValueTask DisposeAsync() => Services.DisposeAsync();
}

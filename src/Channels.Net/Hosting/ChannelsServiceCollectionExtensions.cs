using Channels.Net.Hosting;
using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Channels.Net to an application's services.</summary>
public static class ChannelsServiceCollectionExtensions
{
    /// <summary>
    /// Adds Channels.Net with the channel layers of <paramref name="channelLayers"/>, a section
    /// shaped like Django's <c>CHANNEL_LAYERS</c>:
    /// <c>{alias}:Backend</c> and <c>{alias}:Config:*</c>, for example
    /// <c>ChannelLayers__default__Backend=InMemory</c> as an environment variable.
    /// Every alias is checked when the host starts; a bad one stops it with a message naming the alias and key.
    /// </summary>
    public static ChannelsBuilder AddChannels(this IServiceCollection services, IConfiguration channelLayers)
    {
        ArgumentNullException.ThrowIfNull(channelLayers);
        var builder = services.AddChannels();
        services.AddOptions<ChannelLayersOptions>()
            .Configure<ChannelLayerBackendCatalog>((options, catalog) =>
            {
                // Code-first layers registered earlier keep priority over configuration of the same alias.
                var codeFirst = new Dictionary<string, Func<IServiceProvider, IChannelLayer>>(options.Layers, StringComparer.OrdinalIgnoreCase);
                options.BindConfiguration(channelLayers, catalog);
                foreach (var (alias, factory) in codeFirst)
                {
                    options.Layers[alias] = factory;
                }
            });
        return builder;
    }

    /// <summary>Adds Channels.Net; configure layers in code with <paramref name="configure"/>.</summary>
    public static ChannelsBuilder AddChannels(this IServiceCollection services, Action<ChannelsBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddLogging();
        services.AddOptions<ChannelLayersOptions>().ValidateOnStart();
        services.AddOptions<ChannelsOptions>().Validate(o =>
        {
            o.Validate();
            return true;
        }).ValidateOnStart();
        services.TryAddSingleton<ChannelLayerBackendCatalog>();
        services.TryAddSingleton<ChannelLayerManager>();
        services.TryAddSingleton<IChannelLayerManager>(sp => sp.GetRequiredService<ChannelLayerManager>());
        services.TryAddSingleton<IChannelLayer>(sp => sp.GetRequiredService<IChannelLayerManager>().GetLayer());
        var builder = new ChannelsBuilder(services);
        configure?.Invoke(builder);
        return builder;
    }
}

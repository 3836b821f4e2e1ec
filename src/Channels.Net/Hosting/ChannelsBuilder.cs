using Channels.Net.Layers;
using Channels.Net.Layers.Configuration;
using Channels.Net.Layers.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Hosting;

/// <summary>Configures Channels.Net in code; returned by <c>AddChannels</c>.</summary>
public sealed class ChannelsBuilder
{
    internal ChannelsBuilder(IServiceCollection services)
    {
        Services = services;
    }

    /// <summary>The application's services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Registers a channel layer under <paramref name="alias"/>, replacing one configured under the same alias.</summary>
    public ChannelsBuilder AddLayer(string alias, Func<IServiceProvider, IChannelLayer> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(alias);
        ArgumentNullException.ThrowIfNull(factory);
        Services.Configure<ChannelLayersOptions>(options => options.Layers[alias] = factory);
        return this;
    }

    /// <summary>Registers an <see cref="InMemoryChannelLayer"/> under <paramref name="alias"/>.</summary>
    public ChannelsBuilder AddInMemoryLayer(string alias = ChannelLayersOptions.DefaultAlias, Action<InMemoryChannelLayerOptions>? configure = null)
    {
        var options = new InMemoryChannelLayerOptions();
        configure?.Invoke(options);
        options.Validate();
        return AddLayer(alias, services => new InMemoryChannelLayer(options, services.GetService<ILogger<InMemoryChannelLayer>>()));
    }

    /// <summary>
    /// Runs a channel worker (Django's <c>runworker</c>) in this application: messages sent to
    /// <paramref name="channels"/> go to <paramref name="application"/>, usually a <c>ChannelNameRouter</c>.
    /// </summary>
    public ChannelsBuilder AddWorker(IChannelApplication application, params string[] channels)
    {
        ArgumentNullException.ThrowIfNull(application);
        ArgumentNullException.ThrowIfNull(channels);
        if (Services.Any(d => d.ImplementationType == typeof(Workers.ChannelWorkerService)))
        {
            throw new InvalidOperationException("A channel worker is already added; give one worker all its channels.");
        }

        foreach (var channel in channels)
        {
            ChannelNames.RequireValidChannelName(channel, paramName: nameof(channels));
        }

        Services.Configure<Workers.ChannelWorkerOptions>(options =>
        {
            options.Application = application;
            foreach (var channel in channels)
            {
                options.Channels.Add(channel);
            }
        });
        Services.AddHostedService<Workers.ChannelWorkerService>();
        return this;
    }

    /// <summary>Makes a backend known to configuration by its names (for backends whose assembly does not announce itself).</summary>
    public ChannelsBuilder AddBackend(ChannelLayerBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        Services.AddSingleton(backend);
        return this;
    }
}

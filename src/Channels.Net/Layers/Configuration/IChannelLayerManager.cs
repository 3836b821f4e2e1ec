namespace Channels.Net.Layers.Configuration;

/// <summary>Hands out one channel layer per configured alias (Django's <c>channel_layers</c>).</summary>
public interface IChannelLayerManager
{
    /// <summary>The configured aliases.</summary>
    IReadOnlyCollection<string> Aliases { get; }

    /// <summary>True when <paramref name="alias"/> is configured.</summary>
    bool Contains(string alias);

    /// <summary>The layer of <paramref name="alias"/>, made on first use and shared afterwards.</summary>
    /// <exception cref="InvalidChannelLayerException">No layer is configured under <paramref name="alias"/>.</exception>
    IChannelLayer GetLayer(string alias = ChannelLayersOptions.DefaultAlias);

    /// <summary>The layer of <paramref name="alias"/>, or null when none is configured (Django's <c>get_channel_layer</c>).</summary>
    IChannelLayer? GetLayerOrDefault(string alias = ChannelLayersOptions.DefaultAlias);
}

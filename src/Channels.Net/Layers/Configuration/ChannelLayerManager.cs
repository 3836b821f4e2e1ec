using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Channels.Net.Layers.Configuration;

/// <summary>
/// The registry of configured channel layers: each alias's layer is made once, on first use, and
/// closed when the application stops.
/// </summary>
public sealed class ChannelLayerManager : IChannelLayerManager, IAsyncDisposable, IDisposable
{
    private readonly IServiceProvider _services;
    private readonly IReadOnlyDictionary<string, Func<IServiceProvider, IChannelLayer>> _factories;
    private readonly ConcurrentDictionary<string, Lazy<IChannelLayer>> _layers = new(StringComparer.OrdinalIgnoreCase);
    private volatile bool _disposed;

    /// <summary>Creates the manager over the configured factories.</summary>
    public ChannelLayerManager(IOptions<ChannelLayersOptions> options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        _services = services;
        _factories = new Dictionary<string, Func<IServiceProvider, IChannelLayer>>(options.Value.Layers, StringComparer.OrdinalIgnoreCase);
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> Aliases => [.. _factories.Keys];

    /// <inheritdoc />
    public bool Contains(string alias) => _factories.ContainsKey(alias);

    /// <inheritdoc />
    public IChannelLayer GetLayer(string alias = ChannelLayersOptions.DefaultAlias) =>
        GetLayerOrDefault(alias) ?? throw new InvalidChannelLayerException(
            _factories.Count == 0
                ? $"No channel layer '{alias}' is configured: no channel layers are configured at all (add 'ChannelLayers:{alias}:Backend' to configuration, or AddChannels(c => c.AddInMemoryLayer()))."
                : $"No channel layer '{alias}' is configured; configured aliases: {string.Join(", ", _factories.Keys)}.");

    /// <inheritdoc />
    public IChannelLayer? GetLayerOrDefault(string alias = ChannelLayersOptions.DefaultAlias)
    {
        ArgumentNullException.ThrowIfNull(alias);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_factories.TryGetValue(alias, out var factory))
        {
            return null;
        }

        return _layers.GetOrAdd(alias, _ => new Lazy<IChannelLayer>(() => factory(_services), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    /// <summary>Closes every layer this manager made (for containers disposed synchronously).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Closes every layer this manager made.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var lazy in _layers.Values)
        {
            if (lazy.IsValueCreated)
            {
                await lazy.Value.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

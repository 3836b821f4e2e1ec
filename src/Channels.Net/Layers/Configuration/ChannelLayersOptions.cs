using Microsoft.Extensions.Configuration;

namespace Channels.Net.Layers.Configuration;

/// <summary>
/// The configured channel layers: one factory per alias (Django's <c>CHANNEL_LAYERS</c>). Filled
/// from configuration by <see cref="BindConfiguration"/> and from code by <c>AddChannels(...)</c>.
/// </summary>
public sealed class ChannelLayersOptions
{
    /// <summary>The alias consumers use unless they name another (Django's <c>DEFAULT_CHANNEL_LAYER</c>).</summary>
    public const string DefaultAlias = "default";

    /// <summary>Layer factories by alias (aliases match case-insensitively, as configuration keys do).</summary>
    public IDictionary<string, Func<IServiceProvider, IChannelLayer>> Layers { get; } =
        new Dictionary<string, Func<IServiceProvider, IChannelLayer>>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Reads every alias under <paramref name="section"/> (<c>{alias}:Backend</c> and
    /// <c>{alias}:Config:*</c>), checking every option now.
    /// </summary>
    /// <exception cref="InvalidChannelLayerException">An alias has no backend, an unknown backend, an unknown key, or a bad option.</exception>
    public void BindConfiguration(IConfiguration section, ChannelLayerBackendCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(catalog);
        foreach (var aliasSection in section.GetChildren())
        {
            var alias = aliasSection.Key;
            if (aliasSection.Value is not null)
            {
                throw new InvalidChannelLayerException(
                    $"Channel layer '{alias}': '{aliasSection.Path}' must be a section with 'Backend' (and optionally 'Config'), not the value '{aliasSection.Value}'.");
            }

            IConfigurationSection? backendSection = null, configSection = null;
            foreach (var child in aliasSection.GetChildren())
            {
                if (string.Equals(child.Key, "Backend", StringComparison.OrdinalIgnoreCase))
                {
                    backendSection = child;
                }
                else if (string.Equals(child.Key, "Config", StringComparison.OrdinalIgnoreCase))
                {
                    configSection = child;
                }
                else
                {
                    throw new InvalidChannelLayerException(
                        $"Channel layer '{alias}': unknown key '{child.Path}'; an alias has only 'Backend' and 'Config'.");
                }
            }

            var backendName = backendSection?.Value;
            if (string.IsNullOrWhiteSpace(backendName))
            {
                throw new InvalidChannelLayerException(
                    $"Channel layer '{alias}': '{aliasSection.Path}:Backend' is missing; name a backend such as 'InMemory' or 'channels.layers.InMemoryChannelLayer'.");
            }

            var backend = catalog.Find(backendName) ?? throw new InvalidChannelLayerException(
                $"Channel layer '{alias}': '{aliasSection.Path}:Backend' names an unknown backend '{backendName}'. Known backends: {string.Join(", ", catalog.KnownNames())}. " +
                "A backend from another package (such as Channels.Net.Redis) must be referenced by the application.");

            var reader = new ChannelLayerConfigReader(alias, configSection ?? aliasSection.GetSection("Config"));
            Layers[alias] = backend.Bind(reader);
        }

    }
}

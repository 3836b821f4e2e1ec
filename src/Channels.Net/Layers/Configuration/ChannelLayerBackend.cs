namespace Channels.Net.Layers.Configuration;

/// <summary>
/// A kind of channel layer that configuration can name in <c>ChannelLayers:{alias}:Backend</c>.
/// </summary>
/// <remarks>
/// A backend package makes itself known either by an
/// <c>[assembly: ChannelLayerBackendAttribute(typeof(MyBackend))]</c> attribute (found in any loaded
/// assembly and in the application's <c>Channels.Net*.dll</c> files), or explicitly through
/// <c>AddChannels(...).AddBackend(new MyBackend())</c>.
/// </remarks>
public abstract class ChannelLayerBackend
{
    /// <summary>
    /// Every name this backend answers to: a short name (<c>InMemory</c>), the layer's type name
    /// and full type name, and Django's dotted path (<c>channels.layers.InMemoryChannelLayer</c>).
    /// Short names and type names match case-insensitively; dotted paths as written.
    /// </summary>
    public abstract IReadOnlyList<string> Names { get; }

    /// <summary>
    /// Reads and checks the alias's options now (so errors surface at start-up) and returns the
    /// factory that makes the layer when it is first asked for.
    /// </summary>
    /// <exception cref="InvalidChannelLayerException">An option is missing, unknown, of the wrong type or out of range.</exception>
    public abstract Func<IServiceProvider, IChannelLayer> Bind(ChannelLayerConfigReader config);
}

/// <summary>Marks an assembly as holding a <see cref="ChannelLayerBackend"/> so configuration finds it by name.</summary>
/// <param name="backendType">A public <see cref="ChannelLayerBackend"/> type with a parameterless constructor.</param>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class ChannelLayerBackendAttribute(Type backendType) : Attribute
{
    /// <summary>The backend type.</summary>
    public Type BackendType { get; } = backendType;
}

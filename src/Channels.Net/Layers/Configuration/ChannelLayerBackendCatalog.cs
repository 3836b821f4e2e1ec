using System.Reflection;

namespace Channels.Net.Layers.Configuration;

/// <summary>
/// Finds a <see cref="ChannelLayerBackend"/> by any of its names: first among those registered
/// explicitly, then among those that assemblies announce with <see cref="ChannelLayerBackendAttribute"/>.
/// </summary>
public sealed class ChannelLayerBackendCatalog
{
    private readonly Lock _gate = new();
    private readonly List<ChannelLayerBackend> _backends;
    private bool _discovered;

    /// <summary>Creates the catalog over explicitly registered backends (the in-memory one is always there).</summary>
    public ChannelLayerBackendCatalog(IEnumerable<ChannelLayerBackend> registered)
    {
        ArgumentNullException.ThrowIfNull(registered);
        _backends = [.. registered];
        if (!_backends.Any(b => b is InMemoryChannelLayerBackend))
        {
            _backends.Add(new InMemoryChannelLayerBackend());
        }
    }

    /// <summary>The backend named <paramref name="name"/>, or null.</summary>
    public ChannelLayerBackend? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_gate)
        {
            var found = FindLocked(name);
            if (found is null && !_discovered)
            {
                Discover();
                found = FindLocked(name);
            }

            return found;
        }
    }

    /// <summary>Every name of every known backend, for error messages.</summary>
    public IReadOnlyList<string> KnownNames()
    {
        lock (_gate)
        {
            if (!_discovered)
            {
                Discover();
            }

            return [.. _backends.SelectMany(b => b.Names)];
        }
    }

    private ChannelLayerBackend? FindLocked(string name)
    {
        foreach (var backend in _backends)
        {
            foreach (var candidate in backend.Names)
            {
                var ignoreCase = !candidate.Contains('.', StringComparison.Ordinal) || candidate.StartsWith("Channels.Net", StringComparison.Ordinal);
                if (string.Equals(candidate, name.Trim(), ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
                {
                    return backend;
                }
            }
        }

        return null;
    }

    private void Discover()
    {
        _discovered = true;
        var assemblies = AppDomain.CurrentDomain.GetAssemblies().ToList();
        foreach (var path in SafeGetFiles(AppContext.BaseDirectory, "Channels.Net*.dll"))
        {
            var name = AssemblyName.GetAssemblyName(path);
            if (!assemblies.Any(a => AssemblyName.ReferenceMatchesDefinition(a.GetName(), name)))
            {
                try
                {
                    assemblies.Add(Assembly.Load(name));
                }
                catch (Exception ex) when (ex is IOException or BadImageFormatException)
                {
                    // Not loadable here (another target framework, a stale copy): it holds no backend for us.
                }
            }
        }

        foreach (var assembly in assemblies)
        {
            foreach (var attribute in assembly.GetCustomAttributes<ChannelLayerBackendAttribute>())
            {
                if (_backends.Any(b => b.GetType() == attribute.BackendType))
                {
                    continue;
                }

                if (!typeof(ChannelLayerBackend).IsAssignableFrom(attribute.BackendType))
                {
                    throw new InvalidChannelLayerException(
                        $"Assembly {assembly.GetName().Name} names {attribute.BackendType} as a channel layer backend, but it does not derive from {nameof(ChannelLayerBackend)}.");
                }

                _backends.Add((ChannelLayerBackend)Activator.CreateInstance(attribute.BackendType)!);
            }
        }
    }

    private static string[] SafeGetFiles(string directory, string pattern)
    {
        try
        {
            return Directory.GetFiles(directory, pattern);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}

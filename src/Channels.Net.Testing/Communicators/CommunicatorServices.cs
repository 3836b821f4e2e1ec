using Microsoft.Extensions.DependencyInjection;

namespace Channels.Net.Testing;

/// <summary>The services a communicator gives its application when the test supplies none.</summary>
internal static class CommunicatorServices
{
    private static readonly Lazy<IServiceProvider> s_default = new(() =>
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddChannels(c => c.AddInMemoryLayer());
        return services.BuildServiceProvider();
    });

    /// <summary>A process-wide provider with logging and an in-memory <c>default</c> layer.</summary>
    public static IServiceProvider Default => s_default.Value;
}

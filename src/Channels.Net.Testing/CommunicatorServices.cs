using Microsoft.Extensions.DependencyInjection;

namespace Channels.Net.Testing;

/// <summary>
/// The services communicators give the application under test (its <see cref="ChannelScope.RequestServices"/>),
/// like the test settings' <c>CHANNEL_LAYERS</c> in Django: logging and an in-memory <c>default</c> layer.
/// </summary>
public static class CommunicatorServices
{
    private static readonly Lazy<IServiceProvider> s_default = new(() => Create());

    /// <summary>
    /// The process-wide provider a communicator uses when the test passes none: logging and an
    /// in-memory <c>default</c> layer, shared by every test in the process. Tests that run in
    /// parallel and use groups should each make their own with <see cref="Create"/>.
    /// </summary>
    public static IServiceProvider Default => s_default.Value;

    /// <summary>
    /// A new provider with logging and an in-memory <c>default</c> layer (Channels.Net's
    /// <c>AddChannels(c =&gt; c.AddInMemoryLayer())</c>); <paramref name="configure"/> adds or replaces services.
    /// Dispose it when the test ends.
    /// </summary>
    /// <example>
    /// <code>
    /// await using var services = CommunicatorServices.Create();
    /// var layer = services.GetRequiredService&lt;IChannelLayer&gt;();
    /// await using var client = new HttpCommunicator(app, "GET", "/events/", services: services);
    /// </code>
    /// </example>
    public static ServiceProvider Create(Action<IServiceCollection>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddChannels(c => c.AddInMemoryLayer());
        configure?.Invoke(services);
        return services.BuildServiceProvider();
    }
}

namespace Channels.Net.Consumers;

/// <summary>Shorthands for routing files: <c>RePath("^ws/chat/$", Consumer&lt;ChatConsumer&gt;())</c>.</summary>
public static class ConsumerApplications
{
    /// <summary>The application that serves each connection with a new <typeparamref name="TConsumer"/> (Django's <c>ChatConsumer.as_asgi()</c>).</summary>
    public static ConsumerApplication<TConsumer> Consumer<TConsumer>(Action<TConsumer>? configure = null)
        where TConsumer : ConsumerBase => new(configure);
}

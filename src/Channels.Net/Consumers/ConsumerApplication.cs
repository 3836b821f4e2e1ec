using System.Linq.Expressions;
using Microsoft.Extensions.DependencyInjection;

namespace Channels.Net.Consumers;

/// <summary>
/// Serves each connection with a new <typeparamref name="TConsumer"/> built through dependency
/// injection (constructor injection from the connection's services), optionally configured per
/// route like Django's <c>as_asgi(**initkwargs)</c>.
/// </summary>
/// <typeparam name="TConsumer">The consumer type.</typeparam>
public sealed class ConsumerApplication<TConsumer> : IChannelApplication
    where TConsumer : ConsumerBase
{
    private static readonly ObjectFactory s_factory = ActivatorUtilities.CreateFactory(typeof(TConsumer), Type.EmptyTypes);

    // A consumer whose only constructor takes nothing needs no services to be built, so the connection's
    // service scope is not created for it (it is, as soon as anything asks for Scope.RequestServices).
    private static readonly Func<TConsumer>? s_new = typeof(TConsumer).GetConstructors() is [{ } only] && only.GetParameters().Length == 0
        ? Expression.Lambda<Func<TConsumer>>(Expression.New(only)).Compile()
        : null;

    private readonly Action<TConsumer>? _configure;

    /// <summary>Creates the application; <paramref name="configure"/> runs on each new consumer before it starts.</summary>
    /// <exception cref="InvalidOperationException">The consumer declares its handlers wrongly.</exception>
    public ConsumerApplication(Action<TConsumer>? configure = null)
    {
        _configure = configure;
        ConsumerBase.ValidateHandlers(typeof(TConsumer));
    }

    /// <inheritdoc />
    public ValueTask RunAsync(ChannelScope scope, IChannelSession session)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var consumer = s_new is { } create ? create() : (TConsumer)s_factory(scope.RequestServices, null);
        _configure?.Invoke(consumer);
        return new ValueTask(consumer.RunAsync(scope, session));
    }

    /// <inheritdoc />
    public override string ToString() => typeof(TConsumer).Name;
}

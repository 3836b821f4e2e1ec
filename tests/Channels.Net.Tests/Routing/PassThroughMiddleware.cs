namespace Channels.Net.Tests.Routing;

/// <summary>A middleware that runs its inner application with an unchanged scope (as an auth middleware would, plus its user).</summary>
internal sealed class PassThroughMiddleware(IChannelApplication inner) : INestedChannelApplication
{
    public IEnumerable<IChannelApplication> Applications => [inner];

    public ValueTask RunAsync(ChannelScope scope, IChannelSession session) => inner.RunAsync(scope, session);
}

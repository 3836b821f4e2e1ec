namespace Channels.Net;

/// <summary>
/// An application that serves some scope types and refuses the others (what <c>ProtocolTypeRouter</c> does). Hosting
/// asks it, through any middleware and routers around it, whether plain HTTP requests are meant for the application
/// (then <c>MapChannels</c> hands them over) or left to the rest of the ASP.NET Core pipeline.
/// </summary>
/// <remarks>Implement it on a router of your own that dispatches by <see cref="ChannelScope.Type"/>; an application that
/// implements neither this nor <see cref="INestedChannelApplication"/> is taken to serve WebSocket scopes only.</remarks>
public interface IScopeTypeRouter : INestedChannelApplication
{
    /// <summary>True when scopes of <paramref name="scopeType"/> (see <see cref="ChannelScopeType"/>) reach an application.</summary>
    bool Serves(string scopeType);
}

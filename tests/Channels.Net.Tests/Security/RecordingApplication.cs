namespace Channels.Net.Tests.Security;

/// <summary>An application that records each run and accepts WebSockets, as a consumer would.</summary>
internal sealed class RecordingApplication : IChannelApplication
{
    public List<(ChannelScope Scope, IChannelSession Session)> Runs { get; } = [];

    public async ValueTask RunAsync(ChannelScope scope, IChannelSession session)
    {
        Runs.Add((scope, session));
        if (session is IWebSocketSession socket)
        {
            await socket.ReceiveAsync();
            await socket.AcceptAsync();
        }
    }
}

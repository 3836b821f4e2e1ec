namespace Channels.Net.Hosting;

/// <summary>How Channels.Net serves connections over ASP.NET Core (daphne's server options).</summary>
public sealed class ChannelsOptions
{
    /// <summary>The largest message a client may send (all its fragments together); a bigger one closes
    /// the WebSocket with 1009 (Message Too Big). Default 1 MiB.</summary>
    public int MaxIncomingMessageSize { get; set; } = 1 << 20;

    /// <summary>How often the server pings an idle WebSocket; <see cref="TimeSpan.Zero"/> turns pings off.
    /// Default 20 s (daphne's <c>ping_interval</c>).</summary>
    /// <remarks>A client answers a ping only while it reads: .NET's <c>ClientWebSocket</c> sends the pong
    /// from inside <c>ReceiveAsync</c> (browsers answer by themselves), so a client with no receive
    /// pending is dropped after <see cref="KeepAliveInterval"/> + <see cref="KeepAliveTimeout"/>.</remarks>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a ping may go unanswered before the connection is dropped; <see cref="TimeSpan.Zero"/>
    /// waits forever. Default 30 s (daphne's <c>ping_timeout</c>).</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a consumer may take to accept or refuse a WebSocket before the handshake is
    /// refused (HTTP 500, logged) and the consumer's <c>Aborted</c> token is cancelled. Default 5 s
    /// (daphne's <c>websocket_handshake_timeout</c>).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long after the server closes a WebSocket it waits for the client's close frame
    /// before dropping the connection (the disconnect then reports 1006). Default 5 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (MaxIncomingMessageSize < 1 || MaxIncomingMessageSize >= Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxIncomingMessageSize), MaxIncomingMessageSize, $"MaxIncomingMessageSize must be from 1 byte to {Array.MaxLength - 1} bytes.");
        }

        if (KeepAliveInterval < TimeSpan.Zero || KeepAliveTimeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(KeepAliveInterval), "KeepAliveInterval and KeepAliveTimeout must not be negative.");
        }

        if (HandshakeTimeout <= TimeSpan.Zero || CloseTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout), "HandshakeTimeout and CloseTimeout must be longer than zero.");
        }
    }
}

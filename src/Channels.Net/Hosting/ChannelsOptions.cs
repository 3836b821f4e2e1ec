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

    /// <summary>How many messages one WebSocket connection may hold on their way to its client: messages its
    /// consumer sent that the socket has not taken yet, plus channel-layer messages the consumer took from the layer
    /// and has not handled yet. Default 8,192.</summary>
    /// <remarks>
    /// <para>Within this budget a consumer's send completes at once and the consumer takes its next layer message as
    /// soon as its handler returns, so a burst waits here, beside the connection, instead of in the layer's channel
    /// (whose capacity, Django's 100 by default, then only bounds channels nobody drains). A client reading as fast
    /// as it can loses nothing to a burst of up to this many messages. See docs/flow-control.md.</para>
    /// <para>When the budget is spent, the consumer's sends wait for room and it stops taking layer messages (its
    /// layer channel fills, and the layer then applies its capacity). When it stays spent for
    /// <see cref="SlowClientTimeout"/>, the client is closed as too slow.</para>
    /// </remarks>
    public int MaxOutgoingMessages { get; set; } = 8192;

    /// <summary>How many bytes of sent messages (as they go on the wire, UTF-8 for text) one WebSocket connection may
    /// hold for its client before its consumer's sends wait; one message always fits, however big. Default 4 MiB.</summary>
    public long MaxOutgoingBytes { get; set; } = 4L << 20;

    /// <summary>How long a connection's outgoing budget (<see cref="MaxOutgoingMessages"/>, <see cref="MaxOutgoingBytes"/>)
    /// may stay spent before the client is taken for too slow: what waits for it is dropped (counted and logged), and the
    /// connection is closed with 1008 (Policy Violation), at once if a write to it is stuck. Its consumer's disconnect
    /// runs with 1008. <see cref="Timeout.InfiniteTimeSpan"/> never closes (sends wait for room for as long as it takes).
    /// Default 10 s.</summary>
    public TimeSpan SlowClientTimeout { get; set; } = TimeSpan.FromSeconds(10);

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

        if (MaxOutgoingMessages < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxOutgoingMessages), MaxOutgoingMessages, "MaxOutgoingMessages must be at least 1.");
        }

        if (MaxOutgoingBytes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxOutgoingBytes), MaxOutgoingBytes, "MaxOutgoingBytes must be at least 1 byte.");
        }

        if (SlowClientTimeout <= TimeSpan.Zero && SlowClientTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(SlowClientTimeout), SlowClientTimeout, "SlowClientTimeout must be longer than zero, or Timeout.InfiniteTimeSpan.");
        }

        if (HandshakeTimeout <= TimeSpan.Zero || CloseTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout), "HandshakeTimeout and CloseTimeout must be longer than zero.");
        }
    }
}

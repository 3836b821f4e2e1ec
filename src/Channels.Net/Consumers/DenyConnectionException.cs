namespace Channels.Net.Consumers;

/// <summary>
/// Thrown from <c>Connect</c> to refuse the WebSocket handshake with HTTP 403 (Django's <c>DenyConnection</c>).
/// </summary>
public sealed class DenyConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DenyConnectionException()
        : base("The consumer refused the connection.")
    {
    }
}

namespace Channels.Net.Consumers;

/// <summary>Thrown from <c>Connect</c> to accept the WebSocket (Django's <c>AcceptConnection</c>).</summary>
public sealed class AcceptConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AcceptConnectionException()
        : base("The consumer accepted the connection.")
    {
    }
}

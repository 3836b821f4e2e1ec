namespace Channels.Net.Layers;

/// <summary>
/// Thrown when a message cannot travel over a channel layer: it has no string <c>type</c>, uses
/// the reserved <c>__asgi_channel__</c> key, or holds a value that is not one of null, bool,
/// integer, float, string, bytes, list or map.
/// </summary>
public sealed class InvalidChannelMessageException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public InvalidChannelMessageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the error that caused it.</summary>
    public InvalidChannelMessageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

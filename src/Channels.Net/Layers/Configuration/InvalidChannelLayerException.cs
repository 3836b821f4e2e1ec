namespace Channels.Net.Layers.Configuration;

/// <summary>
/// A channel-layer alias is unknown or its configuration is wrong (Django's
/// <c>InvalidChannelLayerError</c>). The message names the alias and the configuration key.
/// </summary>
public sealed class InvalidChannelLayerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvalidChannelLayerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the error that caused it.</summary>
    public InvalidChannelLayerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

namespace Channels.Net.Layers;

/// <summary>
/// The store behind a channel layer (a Redis server) cannot be reached. The operation was not
/// performed; it may succeed once the store is back.
/// </summary>
public sealed class ChannelLayerUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ChannelLayerUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

namespace Channels.Net.Redis.Wire;

/// <summary>
/// Thrown when bytes read from Redis are not a message in channels_redis's wire format:
/// truncated or malformed MessagePack, a value a message cannot hold (an ext type, a map key
/// that is neither a string, bytes nor an integer), nesting deeper than the limit, trailing
/// bytes, or a top level that is not a map with a string <c>type</c>.
/// </summary>
/// <remarks>
/// Decoding never throws anything else for bad input, whatever the bytes are, so a receive loop
/// can catch this one type, log it and drop the message.
/// </remarks>
public sealed class WireFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public WireFormatException(string message)
        : base(message)
    {
        Offset = -1;
    }

    /// <summary>Creates the exception with the error that caused it.</summary>
    public WireFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Offset = -1;
    }

    /// <summary>Creates the exception for a problem found at byte <paramref name="offset"/> of the payload.</summary>
    public WireFormatException(string message, long offset)
        : base($"{message} (at byte {offset} of the MessagePack payload)")
    {
        Offset = offset;
    }

    /// <summary>Where in the payload the problem was found, or -1 when it is not about one position.</summary>
    public long Offset { get; }
}

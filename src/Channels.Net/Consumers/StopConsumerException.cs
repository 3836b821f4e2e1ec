namespace Channels.Net.Consumers;

/// <summary>
/// Thrown from a handler to end the consumer cleanly (Django's <c>StopConsumer</c>): the
/// connection is closed normally, groups are left and <c>Disconnect</c> runs.
/// </summary>
public sealed class StopConsumerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StopConsumerException()
        : base("The consumer asked to stop.")
    {
    }
}

using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.Wire;

/// <summary>The log message of a message read from Redis that cannot be decoded (dropped).</summary>
internal static partial class WireLog
{
    [LoggerMessage(502, LogLevel.Warning, "Dropped a message on '{Key}' that could not be read: {Reason}")]
    public static partial void UndecodableMessage(ILogger logger, string key, string reason);
}

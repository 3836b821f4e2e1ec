using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.Connections;

/// <summary>The log messages of the Redis layers' connections (both layers).</summary>
internal static partial class ConnectionLog
{
    [LoggerMessage(500, LogLevel.Warning, "Redis connection to {Host} failed ({FailureType}): {Reason}")]
    public static partial void ConnectionFailed(ILogger logger, string host, string failureType, string reason);

    [LoggerMessage(501, LogLevel.Information, "Redis connection to {Host} restored.")]
    public static partial void ConnectionRestored(ILogger logger, string host);
}

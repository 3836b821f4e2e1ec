using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis;

/// <summary>The Redis layers' log messages.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(500, LogLevel.Warning, "Redis connection to {Host} failed ({FailureType}): {Reason}")]
    public static partial void ConnectionFailed(ILogger logger, string host, string failureType, string reason);

    [LoggerMessage(501, LogLevel.Information, "Redis connection to {Host} restored.")]
    public static partial void ConnectionRestored(ILogger logger, string host);

    [LoggerMessage(502, LogLevel.Warning, "Dropped a message on '{Key}' that could not be read: {Reason}")]
    public static partial void UndecodableMessage(ILogger logger, string key, string reason);

    [LoggerMessage(503, LogLevel.Warning, "Dropped a message for '{Channel}': its process-local buffer is full ({Capacity} messages); is its consumer still reading?")]
    public static partial void LocalBufferFull(ILogger logger, string channel, int capacity);

    [LoggerMessage(504, LogLevel.Warning, "The receive pump for {Host} lost Redis ({Reason}); retrying in {DelayMs} ms.")]
    public static partial void PumpRetrying(ILogger logger, string host, string reason, int delayMs);

    [LoggerMessage(505, LogLevel.Information, "The receive pump for {Host} is receiving again.")]
    public static partial void PumpRecovered(ILogger logger, string host);

    [LoggerMessage(506, LogLevel.Warning, "group_send to '{Group}': {Over} of {Members} channel(s) over capacity; their message was dropped.")]
    public static partial void GroupMembersFull(ILogger logger, string group, long over, int members);

    [LoggerMessage(507, LogLevel.Warning, "Dropped a message for '{Channel}': it names a channel this process does not receive on.")]
    public static partial void ForeignChannel(ILogger logger, string channel);

    [LoggerMessage(508, LogLevel.Debug, "The receive pump for {Host} could not be woken for a new key ({Reason}); it reads the key once its blocking pop times out.")]
    public static partial void PumpWakeFailed(ILogger logger, string host, string reason);

    [LoggerMessage(509, LogLevel.Information, "Redis at {Host} cannot keep copies of group members ({Reason}); group sends check remembered members in Lua instead (slower).")]
    public static partial void NoMemberCopies(ILogger logger, string host, string reason);
}

using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis;

/// <summary>The Redis layer's log messages about its sends and in-process deliveries (connections: <c>ConnectionLog</c>, the
/// receive pump: <c>PumpLog</c>, unreadable messages: <c>WireLog</c>).</summary>
internal static partial class RedisLog
{
    [LoggerMessage(503, LogLevel.Warning, "Dropped a message for '{Channel}': its process-local buffer is full ({Capacity} messages); is its consumer still reading?")]
    public static partial void LocalBufferFull(ILogger logger, string channel, int capacity);

    [LoggerMessage(506, LogLevel.Warning, "group_send to '{Group}': {Over} of {Members} channel(s) over capacity; their message was dropped.")]
    public static partial void GroupMembersFull(ILogger logger, string group, long over, int members);

    [LoggerMessage(507, LogLevel.Warning, "Dropped a message for '{Channel}': it names a channel this process does not receive on.")]
    public static partial void ForeignChannel(ILogger logger, string channel);

    [LoggerMessage(509, LogLevel.Information, "Redis at {Host} cannot keep copies of group members ({Reason}); group sends check remembered members in Lua instead (slower).")]
    public static partial void NoMemberCopies(ILogger logger, string host, string reason);
}

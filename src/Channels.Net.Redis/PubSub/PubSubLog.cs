using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.PubSub;

/// <summary>The pub/sub layer's log messages (event ids 520-529; the connection events reuse <see cref="RedisLog"/>).</summary>
internal static partial class PubSubLog
{
    [LoggerMessage(520, LogLevel.Warning, "Dropped a message published on '{RedisChannel}' that could not be read: {Reason}")]
    public static partial void UndecodableMessage(ILogger logger, string redisChannel, string reason);

    [LoggerMessage(521, LogLevel.Warning, "The buffer of '{Channel}' is full ({Capacity} messages): dropping the messages that arrive for it until its receiver catches up. Is its consumer still reading?")]
    public static partial void BufferFull(ILogger logger, string channel, int capacity);

    [LoggerMessage(522, LogLevel.Information, "The buffer of '{Channel}' has room again; {Dropped} message(s) were dropped while it was full.")]
    public static partial void BufferRecovered(ILogger logger, string channel, long dropped);

    [LoggerMessage(523, LogLevel.Debug, "Released '{Channel}': no receive for {DelaySeconds} s after a cancelled one; unsubscribed, {Dropped} buffered message(s) dropped, left {Groups} group(s).")]
    public static partial void Released(ILogger logger, string channel, double delaySeconds, int dropped, int groups);

    [LoggerMessage(524, LogLevel.Warning, "Could not unsubscribe from '{RedisChannel}' on {Host}: {Reason}")]
    public static partial void UnsubscribeFailed(ILogger logger, string redisChannel, string host, string reason);

    [LoggerMessage(525, LogLevel.Information, "Redis pub/sub connection to {Host} restored; StackExchange.Redis resubscribes this process's {Count} channel(s).")]
    public static partial void SubscriptionsRestoring(ILogger logger, string host, int count);
}

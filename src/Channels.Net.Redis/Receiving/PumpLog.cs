using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.Receiving;

/// <summary>The receive pump's log messages.</summary>
internal static partial class PumpLog
{
    [LoggerMessage(504, LogLevel.Warning, "The receive pump for {Host} lost Redis ({Reason}); retrying in {DelayMs} ms.")]
    public static partial void PumpRetrying(ILogger logger, string host, string reason, int delayMs);

    [LoggerMessage(505, LogLevel.Information, "The receive pump for {Host} is receiving again.")]
    public static partial void PumpRecovered(ILogger logger, string host);

    [LoggerMessage(508, LogLevel.Debug, "The receive pump for {Host} could not be woken for a new key ({Reason}); it reads the key once its blocking pop times out.")]
    public static partial void PumpWakeFailed(ILogger logger, string host, string reason);
}

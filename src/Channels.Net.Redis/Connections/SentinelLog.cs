using Microsoft.Extensions.Logging;

namespace Channels.Net.Redis.Connections;

/// <summary>Log messages about Sentinel-watched masters (event ids 540-549).</summary>
internal static partial class SentinelLog
{
    [LoggerMessage(540, LogLevel.Information, "Sentinel master '{Master}' is at {Address} (sentinels: {Sentinels}).")]
    public static partial void MasterFound(ILogger logger, string master, string address, string sentinels);

    [LoggerMessage(541, LogLevel.Warning, "Sentinel master '{Master}' moved from {OldAddress} to {NewAddress}; sends and receives follow it.")]
    public static partial void MasterMoved(ILogger logger, string master, string oldAddress, string newAddress);

    [LoggerMessage(542, LogLevel.Warning, "Could not ask the sentinels where master '{Master}' is: {Reason}")]
    public static partial void RefreshFailed(ILogger logger, string master, string reason);

    [LoggerMessage(543, LogLevel.Warning, "{Address}, named by the sentinels as master '{Master}', is a replica; asking again.")]
    public static partial void MasterIsReplica(ILogger logger, string master, string address);
}

using Microsoft.Extensions.Logging;

namespace Channels.Net.Security;

/// <summary>The log messages of the origin validators (category <c>Channels.Net.Security.OriginValidator</c>).</summary>
internal static partial class OriginValidatorLog
{
    [LoggerMessage(450, LogLevel.Information, "Refused the WebSocket handshake for {Path} with 403: origin {Origin} is not allowed.", EventName = "OriginRefused")]
    public static partial void OriginRefused(ILogger logger, string path, string origin);

    [LoggerMessage(451, LogLevel.Information, "Refused the WebSocket handshake for {Path} with 403: the request has no Origin header.", EventName = "OriginMissing")]
    public static partial void OriginMissing(ILogger logger, string path);

    [LoggerMessage(452, LogLevel.Information, "Refused the WebSocket handshake for {Path} with 403: the request has {Count} Origin headers ({Origin}).", EventName = "OriginRepeated")]
    public static partial void OriginRepeated(ILogger logger, string path, int count, string origin);

    [LoggerMessage(453, LogLevel.Warning, "AllowedHosts entry '{Entry}' can never match an Origin and is ignored by AllowedHostsOriginValidator: {Problem}.", EventName = "AllowedHostsEntryIgnored")]
    public static partial void AllowedHostsEntryIgnored(ILogger logger, string entry, string problem);

    [LoggerMessage(454, LogLevel.Warning, "AllowedHosts is empty and the environment is not Development: AllowedHostsOriginValidator refuses every WebSocket handshake.", EventName = "AllowedHostsEmpty")]
    public static partial void AllowedHostsEmpty(ILogger logger);

    [LoggerMessage(455, LogLevel.Information, "AllowedHosts allows every host ('{Entry}'), so AllowedHostsOriginValidator lets WebSocket handshakes from every origin through.", EventName = "AllowedHostsAllowAll")]
    public static partial void AllowedHostsAllowAll(ILogger logger, string entry);

    [LoggerMessage(456, LogLevel.Debug, "AllowedHostsOriginValidator allows the origins {Origins}.", EventName = "AllowedHostsResolved")]
    public static partial void AllowedHostsResolved(ILogger logger, string origins);
}

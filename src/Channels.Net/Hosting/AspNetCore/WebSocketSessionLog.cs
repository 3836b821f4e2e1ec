using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>The log messages of a served WebSocket (<see cref="AspNetWebSocketSession"/>): events 200–209.</summary>
internal static partial class WebSocketSessionLog
{
    [LoggerMessage(200, LogLevel.Information, "WebSocket handshake for {Path} refused with {StatusCode}: {Reason}.")]
    public static partial void Refused(ILogger logger, PathString path, int statusCode, string reason);

    [LoggerMessage(201, LogLevel.Warning, "The consumer for {Path} ended without accepting or refusing the WebSocket; refused with 500.")]
    public static partial void NoAnswer(ILogger logger, PathString path);

    [LoggerMessage(202, LogLevel.Warning, "The consumer for {Path} did not accept or refuse the WebSocket within {Seconds} s; refused with 500.")]
    public static partial void HandshakeTimeout(ILogger logger, PathString path, double seconds);

    [LoggerMessage(203, LogLevel.Information, "A message on {Path} exceeded {Limit} bytes; closing with 1009.")]
    public static partial void TooBig(ILogger logger, PathString path, int limit);

    [LoggerMessage(204, LogLevel.Information, "A text frame on {Path} was not valid UTF-8; closing with 1007.")]
    public static partial void InvalidUtf8(ILogger logger, PathString path);

    [LoggerMessage(205, LogLevel.Debug, "A WebSocket send failed because the connection is gone: {Reason}")]
    public static partial void SendFailed(ILogger logger, string reason);

    [LoggerMessage(207, LogLevel.Warning, "The client on {Path} did not read for {Seconds} s while its outgoing budget was spent ({Messages} messages, {Bytes} bytes waiting); dropped them and closed the connection with 1008.")]
    public static partial void SlowClient(ILogger logger, PathString path, double seconds, int messages, long bytes);

    [LoggerMessage(208, LogLevel.Information, "The client on {Path} did not take what was sent before the close ({Code}) within {Seconds} s; dropped the connection.")]
    public static partial void CloseNotDrained(ILogger logger, PathString path, int code, double seconds);

    [LoggerMessage(209, LogLevel.Error, "Writing to the WebSocket on {Path} failed; dropped the connection.")]
    public static partial void WriteFailed(ILogger logger, Exception exception, PathString path);

    [LoggerMessage(206, LogLevel.Information, "The client on {Path} broke the WebSocket protocol ({Reason}); closed with 1002.")]
    public static partial void ProtocolError(ILogger logger, PathString path, string reason);
}

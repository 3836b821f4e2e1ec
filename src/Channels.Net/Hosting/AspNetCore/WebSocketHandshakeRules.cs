using System.Text;

namespace Channels.Net.Hosting.AspNetCore;

/// <summary>What an application may put in a WebSocket handshake's answer and in a close frame.</summary>
internal static class WebSocketHandshakeRules
{
    /// <summary>Refuses response headers an application may not set on the handshake (bad names or values, the
    /// handshake's own headers).</summary>
    public static void CheckHeaders(IReadOnlyList<KeyValuePair<string, string>>? headers)
    {
        foreach (var (name, value) in headers ?? [])
        {
            if (string.IsNullOrEmpty(name) || !name.All(IsTokenChar))
            {
                throw new ArgumentException($"'{name}' is not a valid HTTP header name.", nameof(headers));
            }

            if (value is null || !value.All(c => c == '\t' || (c >= 0x20 && c < 0x7F)))
            {
                throw new ArgumentException($"The value of header '{name}' must be printable ASCII (no control characters or line breaks).", nameof(headers));
            }

            if (name.Equals("upgrade", StringComparison.OrdinalIgnoreCase) || name.Equals("connection", StringComparison.OrdinalIgnoreCase) ||
                name.StartsWith("sec-websocket-", StringComparison.OrdinalIgnoreCase) || name.Equals("content-length", StringComparison.OrdinalIgnoreCase) ||
                name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"The header '{name}' belongs to the WebSocket handshake and cannot be set by the application (choose a subprotocol with the subprotocol argument).", nameof(headers));
            }
        }
    }

    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    /// <summary>Refuses a close code a server may not send (RFC 6455 7.4).</summary>
    public static void CheckCloseCode(int code)
    {
        if (code is not (1000 or (>= 1001 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999)))
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "A WebSocket close code must be 1000-1003, 1007-1014 or 3000-4999.");
        }
    }

    /// <summary>A close reason cut to the 123 UTF-8 bytes a close frame holds, never inside a character.</summary>
    public static string? TrimReason(string? reason)
    {
        if (reason is null || Encoding.UTF8.GetByteCount(reason) <= 123)
        {
            return reason;
        }

        var end = reason.Length;
        while (Encoding.UTF8.GetByteCount(reason.AsSpan(0, end)) > 123)
        {
            end--;
        }

        if (end > 0 && char.IsHighSurrogate(reason[end - 1]))
        {
            end--;
        }

        return reason[..end];
    }
}
